#!/bin/sh

export MALLOC_CONF="tcache_max:1024,tcache_gc_incr_bytes:939524096"
