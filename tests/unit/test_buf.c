#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "common/buf.h"
#include "common/err.h"

static void
test_buf__append_and_cap(void **state)
{
	struct buf b = BUF_INIT(10);

	(void)state;
	assert_string_equal(buf_cstr(&b), "");
	assert_int_equal(buf_puts(&b, "hello"), 0);
	assert_int_equal(buf_printf(&b, "%d%c", 42, '!'), 0);
	assert_string_equal(buf_cstr(&b), "hello42!");
	/* 8 + 3 > 10: refused, and the buffer is left as it was. */
	assert_int_equal(buf_puts(&b, "abc"), -1);
	assert_string_equal(buf_cstr(&b), "hello42!");
	assert_int_equal(buf_puts(&b, "ab"), 0);
	assert_int_equal(b.len, 10);
	assert_int_equal(buf_putc(&b, 'x'), -1);
	assert_int_equal(buf_printf(&b, "%s", "y"), -1);
	assert_string_equal(buf_cstr(&b), "hello42!ab");
	buf_free(&b);
}

static void
test_buf__consume_reset_detach(void **state)
{
	struct buf b = BUF_INIT(1024);
	size_t len;
	char *p;

	(void)state;
	buf_puts(&b, "abcdef");
	buf_consume(&b, 2);
	assert_string_equal(buf_cstr(&b), "cdef");
	buf_consume(&b, 100);
	assert_int_equal(b.len, 0);
	buf_puts(&b, "xyz");
	p = buf_detach(&b, &len);
	assert_string_equal(p, "xyz");
	assert_int_equal(len, 3);
	assert_null(b.data);
	free(p);
	p = buf_detach(&b, &len);
	assert_string_equal(p, "");
	assert_int_equal(len, 0);
	free(p);
	buf_free(&b);
}

static void
test_buf__grows_past_initial_allocation(void **state)
{
	struct buf b = BUF_INIT(100000);
	size_t i;

	(void)state;
	for (i = 0; i < 10000; i++)
		assert_int_equal(buf_putc(&b, (char)('a' + i % 26)), 0);
	assert_int_equal(b.len, 10000);
	assert_int_equal(b.data[9999], 'a' + 9999 % 26);
	assert_int_equal(b.data[10000], '\0');
	buf_free(&b);
}

static void
test_buf__err_set_one_line(void **state)
{
	struct err e = ERR_INIT;

	(void)state;
	assert_int_equal(err_set(&e, ERR_CONFLICT, "a\nb %d", 3), ERR_CONFLICT);
	assert_string_equal(e.message, "a b 3");
	err_set_type(&e, "ResourceConflictException:http://internal.amazon.com/coral/x");
	assert_string_equal(e.type, "ResourceConflictException");
	assert_string_equal(err_code_name(e.code), "conflict");
	assert_int_equal(err_set(NULL, ERR_FAIL, "x"), ERR_FAIL);
	err_clear(&e);
	assert_int_equal(e.code, 0);
	assert_string_equal(e.type, "");
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_buf__append_and_cap),
	    cmocka_unit_test(test_buf__consume_reset_detach),
	    cmocka_unit_test(test_buf__grows_past_initial_allocation),
	    cmocka_unit_test(test_buf__err_set_one_line),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
