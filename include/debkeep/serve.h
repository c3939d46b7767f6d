/* serve.h - read-only HTTP for a published tree (GET, HEAD, single Range), over libmicrohttpd */
#ifndef DEBKEEP_SERVE_H
#define DEBKEEP_SERVE_H

#include <stdint.h>

#include "err.h"

struct dk_server;

/*
 * Serve the files under root on addr:port (addr a numeric IPv4 address; port 0: any free port) from
 * libmicrohttpd's threads (one per connection). Paths with empty components or components starting
 * with '.' ("..", ".", the staging directories) get 404, and files are opened component by component
 * with O_NOFOLLOW under root, so nothing outside root is reachable. Directories are not listed.
 */
int dk_serve_start(struct dk_server **out, const char *root, const char *addr, uint16_t port, struct dk_err *err);
uint16_t dk_serve_port(const struct dk_server *s);
void dk_serve_stop(struct dk_server *s);

#endif
