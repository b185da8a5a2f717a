#!/bin/sh
# Print the library version from the public header: the one place it is written.
h="$(dirname "$0")/../core/include/shmipc.h"
v=$(sed -n 's/^#define SHMIPC_VERSION_STRING "\(.*\)"$/\1/p' "$h")
printf '%s' "$v"
