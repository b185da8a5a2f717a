/* shmipc_demo.h — the cross-language demo's data and messages (examples/README.md, "The
 * demo"), shared by the C server and, through bindgen and cffi, the Rust and Python
 * clients.
 *
 * The frames: DEMO_FRAME_FLOATS float32 values per frame (1 MiB), frame after frame in one
 * object. Value k of frame f is (f * 31 + k) % 251: small integers, so every sum of them
 * is exact in a double whatever the order of the additions, in every language.
 *
 * The messages (text; the numbers decimal):
 *   client -> server  "client <language>"
 *   server -> client  "catalog <count> <hex>"              + the catalogue (shmipc_catalog.h)
 *   client -> server  "catalog <count> <hex>"              + its own: the records reversed
 *   server -> client  "frames <nframes> <sent_ns>"         + the frames
 *   client -> server  "sums <nframes> <recv_ns> <read_ns>" + nframes doubles: frame sums
 *   (the frames and sums twice: the second time the client has the pool mapped already)
 *   server -> client  "copy <path>"                        the same bytes by a plain socket
 *   client -> server  "copied <nbytes> <total> <copy_ns>"
 *   server -> client  "bye"
 * Times are CLOCK_MONOTONIC nanoseconds (one clock for every process of the host):
 * sent_ns when the server sends the frames; recv_ns and read_ns the time from then until
 * the client holds the borrowed frames, and until it has summed every frame. For "copy"
 * the client connects to the Unix stream socket at path; the server writes an 8-byte
 * stamp (sent_ns, native byte order) then the frames' bytes; copy_ns is the time from the
 * stamp until the client has them all in its own memory and summed; total is the sum of
 * every value it received. A client lets go of the borrowed frames and catalogue before
 * it answers "copied": the server then frees them and checks its arena. */
#ifndef SHMIPC_DEMO_H
#define SHMIPC_DEMO_H

#include <stddef.h>
#include <stdint.h>
#include <time.h>

#define DEMO_DEFAULT_SERVER "demo"
#define DEMO_DEFAULT_APP "viewer"
#define DEMO_FRAME_FLOATS 262144u /* 1 MiB of float32 */
#define DEMO_VALUE_MOD 251u
#define DEMO_MSG_MAX 256

/* Value k of frame f. */
static inline float demo_value(uint32_t f, uint32_t k)
{
    return (float)((f * 31u + k) % DEMO_VALUE_MOD);
}

/* Fill frame f at p; returns the frame's sum. */
static inline double demo_fill_frame(float *p, uint32_t f)
{
    double sum = 0;
    for (uint32_t k = 0; k < DEMO_FRAME_FLOATS; k++) {
        p[k] = demo_value(f, k);
        sum += p[k];
    }
    return sum;
}

/* Sum of the n floats at p. */
static inline double demo_sum(const float *p, size_t n)
{
    double sum = 0;
    for (size_t k = 0; k < n; k++)
        sum += p[k];
    return sum;
}

static inline uint64_t demo_now_ns(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (uint64_t)ts.tv_sec * 1000000000u + (uint64_t)ts.tv_nsec;
}

#endif /* SHMIPC_DEMO_H */
