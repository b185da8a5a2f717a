/* proto.h — the session handshake's messages (SOCK_SEQPACKET, fixed sizes) and their
 * checks, shared by server.c and client.c (the two sides of the handshake), handshake.c
 * and the fuzz harnesses. The protocol is described in docs/protocol.md. Internal. */
#ifndef SHMIPC_PROTO_H
#define SHMIPC_PROTO_H

#include "internal.h"

#define PROTO_MAGIC 0x4f525053u /* "SPRO" */
#define PROTO_VERSION 1
#define PROTO_FDS 7 /* with WELCOME: control, session arena, app arena, 4 eventfds */

enum {
    MSG_HELLO = 1,
    MSG_WELCOME = 2,
    MSG_READY = 3
};

/* What every handshake message starts with, in every protocol version: a message of
 * another size still tells its version. */
struct msg_head {
    uint32_t magic;
    uint16_t version;
    uint16_t type;
};

struct msg_hello {
    uint32_t magic;
    uint16_t version;
    uint16_t type;
    char app[SHMIPC_NAME_MAX + 1];
};

struct msg_welcome {
    uint32_t magic;
    uint16_t version;
    uint16_t type;
    int32_t status; /* 0, or the SHMIPC_E* code of a refusal */
    uint32_t provider;
    uint64_t session_id;
    uint64_t key;
    uint32_t client_ep[2]; /* the client's endpoints in the session and app arenas */
    uint32_t server_ep[2]; /* shared provider: the server's */
    uint64_t pool_size;    /* lend provider: the size of the client's data pools */
    char reason[256];
};

struct msg_ready {
    uint32_t magic;
    uint16_t version;
    uint16_t type;
    uint32_t lend_ep; /* lend provider: the server's endpoint in the client's arena */
    uint32_t reserved;
};

/* Server: check a HELLO (its app name is NUL-terminated in place). 0, or the code to refuse
 * the client with, the reason in shmipc_error_detail(). */
SHMIPC_HIDDEN int shmipc__hello_check(struct msg_hello *h, const char *server);
/* Client: check a WELCOME that came with nfds descriptors: 0 if it sets a session up, else
 * the server's refusal (its code and reason) or the protocol error. */
SHMIPC_HIDDEN int shmipc__welcome_check(const struct msg_welcome *w, int nfds,
                                        const char *server);
/* Server: check a READY that came with nfds descriptors, for a session of `provider`. */
SHMIPC_HIDDEN int shmipc__ready_check(const struct msg_ready *r, int provider, int nfds);

#endif
