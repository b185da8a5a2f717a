#include "batch_alloc.c"
