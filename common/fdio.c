#include <errno.h>
#include <fcntl.h>
#include <string.h>
#include <sys/stat.h>
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

int
fdio_ensure_dir(const char *dir, bool *created, struct err *err)
{
	struct stat sb;

	*created = false;
	if (mkdir(dir, 0700) == 0) {
		*created = true;
		return 0;
	}
	if (errno != EEXIST)
		return err_set(err, ERR_FAIL, "%s: cannot create: %s", dir, strerror(errno));
	if (stat(dir, &sb) != 0)
		return err_set(err, ERR_FAIL, "%s: %s", dir, strerror(errno));
	if (!S_ISDIR(sb.st_mode))
		return err_set(err, ERR_FAIL, "%s: not a directory", dir);
	return 0;
}

int
fdio_fsync_dir(const char *dir, struct err *err)
{
	int fd, rc = 0;

	fd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (fd < 0)
		return err_set(err, ERR_FAIL, "%s: %s", dir, strerror(errno));
	if (fsync(fd) != 0)
		rc = err_set(err, ERR_FAIL, "%s: fsync: %s", dir, strerror(errno));
	close(fd);
	return rc;
}

int
fdio_write_all(int fd, const char *p, size_t n)
{
	ssize_t w;

	while (n > 0) {
		w = write(fd, p, n);
		if (w < 0 && errno == EINTR)
			continue;
		if (w < 0)
			return -1;
		if (w == 0) {
			errno = EIO;
			return -1;
		}
		p += w;
		n -= (size_t)w;
	}
	return 0;
}
