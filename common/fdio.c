#include <errno.h>
#include <string.h>
#include <unistd.h>

#include "common/err.h"
#include "common/fdio.h"

int
fdio_read_all(int fd, struct buf *out)
{
	char chunk[8192];
	ssize_t n;
	int rc = 0;

	for (;;) {
		n = read(fd, chunk, sizeof(chunk));
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0) {
			rc = -1;
			break;
		}
		if (n == 0)
			break;
		if (buf_append(out, chunk, (size_t)n) != 0) {
			rc = ERR_TOOBIG;
			break;
		}
	}
	explicit_bzero(chunk, sizeof(chunk));
	return rc;
}
