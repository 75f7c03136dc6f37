/* Error messages of the runners (KVM, boot): every failing call fills one buffer
 * with a complete sentence; callers print it once. */
#ifndef HXK_KVM_ERR_H
#define HXK_KVM_ERR_H

#define HXK_ERR_LEN 512

struct hxk_err {
	char msg[HXK_ERR_LEN];
};

/* Format into err (may be NULL) and return -1, so `return hxk_fail(...)`. */
int hxk_fail(struct hxk_err *err, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
/* The same with ": strerror(errno)" appended (errno as at the call). */
int hxk_fail_errno(struct hxk_err *err, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

#endif
