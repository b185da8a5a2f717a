/* proto.c — the checks of the handshake's messages (proto.h): everything a peer sends is
 * validated here before the rest of the handshake acts on it. */
#include <string.h>

#include "lend.h"
#include "proto.h"

int shmipc__hello_check(struct msg_hello *h, const char *server)
{
    if (h->magic != PROTO_MAGIC || h->type != MSG_HELLO)
        return shmipc__fail(SHMIPC_EPROTO, "not a shmipc client");
    if (h->version != PROTO_VERSION)
        return shmipc__fail(SHMIPC_EPROTO,
                            "server '%s' speaks protocol version %d, the "
                            "client %u",
                            server, PROTO_VERSION, (unsigned)h->version);
    h->app[sizeof h->app - 1] = '\0';
    return shmipc__check_name(h->app, "app");
}

int shmipc__welcome_check(const struct msg_welcome *w, int nfds, const char *server)
{
    if (w->magic != PROTO_MAGIC || w->type != MSG_WELCOME)
        return shmipc__fail(SHMIPC_EPROTO, "'%s' sent no WELCOME: not a shmipc server", server);
    if (w->version != PROTO_VERSION)
        return shmipc__fail(SHMIPC_EPROTO,
                            "the server speaks protocol version %u, this "
                            "client %d",
                            (unsigned)w->version, PROTO_VERSION);
    if (w->status != 0)
        return shmipc__fail(w->status < 0 && w->status >= SHMIPC_ERRNO_MIN ? w->status
                                                                           : SHMIPC_EPROTO,
                            "server '%s' refused: %.255s", server, w->reason);
    if (nfds != PROTO_FDS)
        return shmipc__fail(SHMIPC_EPROTO, "the server sent %d descriptors, not %d", nfds,
                            PROTO_FDS);
    if (w->provider == SHMIPC_PROVIDER_LEND)
        return shmipc__lend_supported();
    if (w->provider != SHMIPC_PROVIDER_SHARED)
        return shmipc__fail(SHMIPC_EPROTO, "the server uses provider %u, unknown here",
                            (unsigned)w->provider);
    return 0;
}

int shmipc__ready_check(const struct msg_ready *r, int provider, int nfds)
{
    if (r->magic != PROTO_MAGIC || r->type != MSG_READY || r->version != PROTO_VERSION)
        return shmipc__fail(SHMIPC_EPROTO, "client sent no READY");
    if (provider == SHMIPC_PROVIDER_LEND ? nfds != 1 : nfds != 0)
        return shmipc__fail(SHMIPC_EPROTO, "READY with %d descriptors (%s)", nfds,
                            provider == SHMIPC_PROVIDER_LEND ? "the client's arena: 1"
                                                             : "none expected");
    if (provider == SHMIPC_PROVIDER_LEND && (r->lend_ep == 0 || r->lend_ep >= SHMIPC_EP_MAX))
        return shmipc__fail(SHMIPC_EPROTO, "READY names endpoint %u", (unsigned)r->lend_ep);
    return 0;
}
