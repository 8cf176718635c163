#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <cmocka.h>
#include <jansson.h>

#include "common/log.h"

/* Read what the logger wrote into the pipe so far (one write per line, so one read). */
static void
read_lines(int fd, char *out, size_t size)
{
	ssize_t n = read(fd, out, size - 1);

	assert_true(n > 0);
	out[n] = '\0';
}

static void
test_log__json_lines(void **state)
{
	char text[8192];
	json_t *line;
	int p[2];

	(void)state;
	assert_int_equal(pipe(p), 0);
	log_init(LOG_LEVEL_INFO, true, p[1]);
	log_info("sub\"sys", "fn %s: said \"%s\"\nthen\t\\ %s", "a\xc3\xa9", "hi", "\x01\xff");
	read_lines(p[0], text, sizeof(text));
	/* One line, newline-terminated, that is one JSON object with the four members. */
	assert_int_equal(strchr(text, '\n') - text, (long)strlen(text) - 1);
	line = json_loads(text, 0, NULL);
	assert_non_null(line);
	assert_int_equal(json_object_size(line), 4);
	assert_string_equal(json_string_value(json_object_get(line, "level")), "info");
	assert_string_equal(json_string_value(json_object_get(line, "subsystem")), "sub\"sys");
	assert_string_equal(json_string_value(json_object_get(line, "msg")),
	    "fn a\xc3\xa9: said \"hi\"\nthen\t\\ \x01\xef\xbf\xbd");
	assert_int_equal(strlen(json_string_value(json_object_get(line, "time"))), 24);
	json_decref(line);

	/* Below the level, nothing. Text lines keep a message on one line. */
	log_debug("sub", "hidden");
	log_init(LOG_LEVEL_INFO, false, p[1]);
	log_warn("sub", "two\nlines");
	read_lines(p[0], text, sizeof(text));
	assert_non_null(strstr(text, " warn sub: two lines\n"));
	assert_null(strstr(text, "hidden"));

	log_init(LOG_LEVEL_INFO, false, STDERR_FILENO);
	close(p[0]);
	close(p[1]);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_log__json_lines),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
