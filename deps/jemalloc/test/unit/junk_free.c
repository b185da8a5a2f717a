#include "junk.c"
