/*
 * utf8.c - strict UTF-8. See utf8.h.
 */
#include "utf8.h"

#include <locale.h>
#include <pthread.h>
#include <wchar.h>

static locale_t utf8_locale;
static pthread_once_t utf8_locale_once = PTHREAD_ONCE_INIT;

static void utf8_locale_open(void)
{
	utf8_locale = newlocale(LC_CTYPE_MASK, "C.UTF-8", (locale_t)0);
}

int dbops_utf8_width(const unsigned char *s, size_t len)
{
	static const unsigned char lead_mask[] = { 0, 0x7f, 0x1f, 0x0f, 0x07 };
	wchar_t c;
	locale_t old;
	int w;

	if (len == 0 || len > 4)
		return 1;
	c = (wchar_t)(s[0] & lead_mask[len]);
	for (size_t i = 1; i < len; i++)
		c = (wchar_t)((c << 6) | (s[i] & 0x3f));
	pthread_once(&utf8_locale_once, utf8_locale_open);
	if (utf8_locale == (locale_t)0)
		return 1;
	/* wcwidth() reads the thread's locale: C.UTF-8 just for it. */
	old = uselocale(utf8_locale);
	w = wcwidth(c);
	uselocale(old);
	return w < 0 ? 1 : w;
}

size_t dbops_utf8_seq_len(const unsigned char *s, size_t n)
{
	unsigned char lo = 0x80, hi = 0xbf;
	size_t len;

	if (s[0] < 0x80)
		return 1;
	if (s[0] >= 0xc2 && s[0] <= 0xdf)
		len = 2;
	else if (s[0] >= 0xe0 && s[0] <= 0xef)
		len = 3;
	else if (s[0] >= 0xf0 && s[0] <= 0xf4)
		len = 4;
	else
		return 0; /* continuation byte, C0, C1, F5..FF */
	if (s[0] == 0xe0)
		lo = 0xa0; /* overlong */
	else if (s[0] == 0xed)
		hi = 0x9f; /* surrogates */
	else if (s[0] == 0xf0)
		lo = 0x90; /* overlong */
	else if (s[0] == 0xf4)
		hi = 0x8f; /* above U+10FFFF */
	if (n < len || s[1] < lo || s[1] > hi)
		return 0;
	for (size_t i = 2; i < len; i++)
		if (s[i] < 0x80 || s[i] > 0xbf)
			return 0;
	return len;
}

bool dbops_utf8_valid(const char *s, size_t n)
{
	const unsigned char *p = (const unsigned char *)s;

	for (size_t i = 0; i < n;) {
		size_t k = dbops_utf8_seq_len(p + i, n - i);

		if (k == 0)
			return false;
		i += k;
	}
	return true;
}

size_t dbops_utf8_cut(const char *text, size_t n)
{
	size_t start = n, need;
	unsigned char lead;

	while (start > 0 && ((unsigned char)text[start - 1] & 0xc0) == 0x80)
		start--;
	if (start == 0)
		return n;
	lead = (unsigned char)text[start - 1];
	if (lead < 0xc0)
		return n;
	need = lead >= 0xf0 ? 4 : lead >= 0xe0 ? 3 : 2;
	return n - (start - 1) < need ? start - 1 : n;
}
