/*
 * common/fdio: whole reads across many chunks, the cap (ERR_TOOBIG with what fit kept),
 * an empty file, and read errors.
 */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>
#include <unistd.h>

#include <cmocka.h>

#include "common/err.h"
#include "common/fdio.h"

#define TEXT_LEN 20000 /* more than two of fdio's 8 KiB chunks; fits a 64 KiB pipe */

static char text[TEXT_LEN];

/* A pipe whose read end yields n bytes of text, then end of file. */
static int
pipe_with(size_t n)
{
	int fds[2];
	size_t off = 0, i;
	ssize_t w;

	for (i = 0; i < TEXT_LEN; i++)
		text[i] = (char)('a' + i % 26);
	assert_int_equal(pipe(fds), 0);
	while (off < n) {
		w = write(fds[1], text + off, n - off);
		assert_true(w > 0);
		off += (size_t)w;
	}
	close(fds[1]);
	return fds[0];
}

static void
test_fdio__read_all(void **state)
{
	struct buf b = BUF_INIT(TEXT_LEN);
	int fd;

	(void)state;
	fd = pipe_with(TEXT_LEN);
	assert_int_equal(fdio_read_all(fd, &b), 0);
	close(fd);
	assert_int_equal(b.len, TEXT_LEN);
	assert_memory_equal(b.data, text, TEXT_LEN);
	buf_free(&b);

	/* Appends to what the buffer holds. */
	assert_int_equal(buf_puts(&b, "head:"), 0);
	fd = pipe_with(3);
	assert_int_equal(fdio_read_all(fd, &b), 0);
	close(fd);
	assert_string_equal(buf_cstr(&b), "head:abc");
	buf_free(&b);

	fd = pipe_with(0);
	assert_int_equal(fdio_read_all(fd, &b), 0);
	close(fd);
	assert_int_equal(b.len, 0);
	buf_free(&b);
}

static void
test_fdio__cap_and_errors(void **state)
{
	struct buf b = BUF_INIT(TEXT_LEN - 1);
	int fd;

	(void)state;
	fd = pipe_with(TEXT_LEN);
	assert_int_equal(fdio_read_all(fd, &b), ERR_TOOBIG);
	close(fd);
	assert_true(b.len < TEXT_LEN);
	assert_memory_equal(b.data, text, b.len);
	buf_free(&b);

	errno = 0;
	assert_int_equal(fdio_read_all(-1, &b), -1);
	assert_int_equal(errno, EBADF);
	assert_int_equal(b.len, 0);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_fdio__read_all),
	    cmocka_unit_test(test_fdio__cap_and_errors),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
