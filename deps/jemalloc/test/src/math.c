#define MATH_C_
#include "test/jemalloc_test.h"
