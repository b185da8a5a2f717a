/* handshake.h — what the two sides of the session handshake share (server.c, client.c):
 * the socket's path, and sending and receiving one handshake message. The messages are in
 * proto.h, the protocol in docs/protocol.md. Internal. */
#ifndef SHMIPC_HANDSHAKE_H
#define SHMIPC_HANDSHAKE_H

#include <sys/un.h>

#include "proto.h"

#define HS_DEFAULT_TIMEOUT_MS 5000
#define N_FDS PROTO_FDS

/* The caller's options (NULL: the defaults) into *out, in this library's layout
 * (opts.c): fields past the caller's size take their defaults; EINVAL (with the detail) for
 * a size of 0, a size that is no layout of the struct, or fields this library does not
 * know set to something else than their default. */
SHMIPC_HIDDEN int shmipc__server_opts_take(const shmipc_server_opts *opts,
                                           shmipc_server_opts *out);
SHMIPC_HIDDEN int shmipc__client_opts_take(const shmipc_client_opts *opts,
                                           shmipc_client_opts *out);
/* A timeout option: 0 means HS_DEFAULT_TIMEOUT_MS. */
SHMIPC_HIDDEN int shmipc__hs_timeout(int ms);
/* Wait until fd is readable; SHMIPC_ETIMEDOUT otherwise (timeout_ms -1: forever). */
SHMIPC_HIDDEN int shmipc__hs_wait(int fd, int timeout_ms);
/* Send one handshake message with nfds descriptors (0 or more), never blocking. */
SHMIPC_HIDDEN int shmipc__hs_send(int sock, const void *msg, size_t len, const int *fds,
                                  int nfds);
/* Receive one handshake message of exactly `len` bytes without waiting: 0, 1 if none is
 * there yet, or the error (the peer hung up: SHMIPC_ECLOSED; malformed: SHMIPC_EPROTO).
 * fds (up to N_FDS) go to fds[], *nfds says how many came; those of a malformed message
 * are closed. */
SHMIPC_HIDDEN int shmipc__hs_recv(int sock, void *msg, size_t len, int *fds, int *nfds);
/* The path of server `name`'s socket, in the directory dir_opt (NULL: the default one, made
 * if missing: see shmipc__socket_dir_name), checked (shmipc__socket_dir_check); an existing
 * socket file there must be this uid's or the directory owner's (SHMIPC_EPERM). A name
 * whose path would not fit sun_path gets the socket h-<FNV-1a 64 of the name, hex>.sock
 * (*hashed set, if hashed is not NULL): the client then checks the name WELCOME carries. */
SHMIPC_HIDDEN int shmipc__socket_path(const char *dir_opt, const char *name,
                                      struct sockaddr_un *sa, int *hashed);

#endif
