/* libcurl transfers with one deadline, no redirects, verified TLS and a body cap. */
#include "build_config.h"

#include <limits.h>
#include <pthread.h>
#include <string.h>
#include <strings.h>
#include <time.h>

#include "http.h"

#define MS_PER_S 1000ULL
#define NS_PER_MS 1000000ULL

static pthread_once_t curl_once = PTHREAD_ONCE_INIT;
static CURLcode curl_init_rc = CURLE_OK;

/* Never cleaned up: a PAM module may be loaded again, and global cleanup is not reentrant. */
static void
curl_setup(void)
{
	curl_init_rc = curl_global_init(CURL_GLOBAL_DEFAULT);
}

unsigned long long
bg_monotonic_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (unsigned long long)ts.tv_sec * MS_PER_S + (unsigned long long)ts.tv_nsec /
	    NS_PER_MS;
}

static size_t
on_body(char *data, size_t size, size_t nmemb, void *arg)
{
	bg_http *h = arg;
	size_t n = size * nmemb;

	/* Returning less than given aborts the transfer with CURLE_WRITE_ERROR. */
	if (!bg_buf_append(&h->body, data, n))
		return 0;
	return n;
}

/* Keeps the last value of the captured header; a new response (status line) resets it. */
static size_t
on_header(char *data, size_t size, size_t nmemb, void *arg)
{
	bg_http *h = arg;
	size_t n = size * nmemb, name_len = strlen(h->capture), vlen;
	const char *v;
	static const char status_line[] = "HTTP/";

	if (n >= sizeof(status_line) - 1 &&
	    memcmp(data, status_line, sizeof(status_line) - 1) == 0) {
		h->captured_set = false;
		h->captured[0] = '\0';
		return n;
	}
	if (n <= name_len || data[name_len] != ':' ||
	    strncasecmp(data, h->capture, name_len) != 0)
		return n;
	v = data + name_len + 1;
	vlen = n - name_len - 1;
	while (vlen > 0 && (*v == ' ' || *v == '\t')) {
		v++;
		vlen--;
	}
	while (vlen > 0 && (v[vlen - 1] == '\r' || v[vlen - 1] == '\n' ||
	    v[vlen - 1] == ' ' || v[vlen - 1] == '\t'))
		vlen--;
	/* An oversized value is dropped: the caller sees no header and refuses. */
	h->captured_set = vlen < sizeof(h->captured);
	if (h->captured_set) {
		memcpy(h->captured, v, vlen);
		h->captured[vlen] = '\0';
	}
	return n;
}

static bg_status
set_options(bg_http *h, const char *url, const bg_http_opts *o, long timeout_ms)
{
	CURL *c = h->easy;
	bool ok;

	ok = curl_easy_setopt(c, CURLOPT_URL, url) == CURLE_OK &&
	    curl_easy_setopt(c, CURLOPT_PROTOCOLS_STR, "http,https") == CURLE_OK &&
	    curl_easy_setopt(c, CURLOPT_FOLLOWLOCATION, 0L) == CURLE_OK &&
	    curl_easy_setopt(c, CURLOPT_SSL_VERIFYPEER, 1L) == CURLE_OK &&
	    curl_easy_setopt(c, CURLOPT_SSL_VERIFYHOST, 2L) == CURLE_OK &&
	    curl_easy_setopt(c, CURLOPT_NOSIGNAL, 1L) == CURLE_OK &&
	    curl_easy_setopt(c, CURLOPT_TIMEOUT_MS, timeout_ms) == CURLE_OK &&
	    curl_easy_setopt(c, CURLOPT_ERRORBUFFER, h->errbuf) == CURLE_OK &&
	    curl_easy_setopt(c, CURLOPT_WRITEFUNCTION, on_body) == CURLE_OK &&
	    curl_easy_setopt(c, CURLOPT_WRITEDATA, h) == CURLE_OK &&
	    curl_easy_setopt(c, CURLOPT_PRIVATE, h) == CURLE_OK;
	if (ok && o->connect_timeout_ms > 0)
		ok = curl_easy_setopt(c, CURLOPT_CONNECTTIMEOUT_MS,
		    (long)o->connect_timeout_ms) == CURLE_OK;
	if (ok && o->ca_file != NULL)
		ok = curl_easy_setopt(c, CURLOPT_CAINFO, o->ca_file) == CURLE_OK;
	if (ok && o->capture != NULL)
		ok = curl_easy_setopt(c, CURLOPT_HEADERFUNCTION, on_header) == CURLE_OK &&
		    curl_easy_setopt(c, CURLOPT_HEADERDATA, h) == CURLE_OK;
	return ok ? BG_OK : BG_ERR_INVALID;
}

CURL *
bg_http_handle_new(bg_error *err)
{
	CURL *c;

	if (pthread_once(&curl_once, curl_setup) != 0 || curl_init_rc != CURLE_OK) {
		bg_error_set(err, BG_ERR_IO, "libcurl initialisation failed");
		return NULL;
	}
	if ((c = curl_easy_init()) == NULL)
		bg_error_set(err, BG_ERR_NOMEM, "curl_easy_init failed");
	return c;
}

bg_status
bg_http_init(bg_http *h, const char *url, const bg_http_opts *o, bg_error *err)
{
	unsigned long long now = bg_monotonic_ms();

	memset(h, 0, sizeof(*h));
	bg_buf_init(&h->body, o->max_body);
	h->capture = o->capture;
	if (now >= o->deadline_ms)
		return bg_error_set(err, BG_ERR_DENIED, "deadline passed");
	if (o->reuse != NULL) {
		/* Options go, the connection cache stays. */
		curl_easy_reset(o->reuse);
		h->easy = o->reuse;
		h->borrowed = true;
	} else if ((h->easy = bg_http_handle_new(err)) == NULL)
		return BG_ERR_IO;
	if (set_options(h, url, o, (long)(o->deadline_ms - now)) != BG_OK) {
		bg_http_free(h);
		return bg_error_set(err, BG_ERR_INVALID, "libcurl refused an option");
	}
	return BG_OK;
}

bg_status
bg_http_add_header(bg_http *h, const char *line, bg_error *err)
{
	struct curl_slist *l = curl_slist_append(h->headers, line);

	if (l == NULL)
		return bg_error_set(err, BG_ERR_NOMEM, "out of memory");
	h->headers = l;
	if (curl_easy_setopt(h->easy, CURLOPT_HTTPHEADER, h->headers) != CURLE_OK)
		return bg_error_set(err, BG_ERR_INVALID, "libcurl refused the headers");
	return BG_OK;
}

bg_status
bg_http_set_post(bg_http *h, const char *body, size_t len, bg_error *err)
{
	if (curl_easy_setopt(h->easy, CURLOPT_POSTFIELDSIZE, (long)len) != CURLE_OK ||
	    curl_easy_setopt(h->easy, CURLOPT_COPYPOSTFIELDS, body) != CURLE_OK)
		return bg_error_set(err, BG_ERR_INVALID, "libcurl refused the body");
	return BG_OK;
}

static bool
only_whitespace(const char *s, size_t len)
{
	size_t i;

	for (i = 0; i < len; i++)
		if (strchr(" \t\r\n", s[i]) == NULL || s[i] == '\0')
			return false;
	return true;
}

bg_status
bg_http_json_body(const bg_http *h, json_object **out, bg_error *err)
{
	json_tokener *tok;
	enum json_tokener_error jerr;
	json_object *v;

	*out = NULL;
	if (h->body.len == 0 || h->body.len >= INT_MAX)
		return bg_error_set(err, BG_ERR_INVALID, "empty response body");
	tok = json_tokener_new();
	if (tok == NULL)
		return bg_error_set(err, BG_ERR_NOMEM, "out of memory");
	/* With the terminating NUL, so a bare number is complete; an embedded NUL stops it. */
	v = json_tokener_parse_ex(tok, h->body.data, (int)h->body.len + 1);
	jerr = json_tokener_get_error(tok);
	/* Anything but whitespace after the value is as malformed as a broken value. */
	if (jerr == json_tokener_success && !only_whitespace(h->body.data +
	    json_tokener_get_parse_end(tok), h->body.len - json_tokener_get_parse_end(tok))) {
		json_object_put(v);
		jerr = json_tokener_error_parse_unexpected;
	}
	json_tokener_free(tok);
	if (jerr != json_tokener_success)
		return bg_error_set(err, BG_ERR_INVALID, "response is not JSON: %s",
		    json_tokener_error_desc(jerr));
	*out = v;
	return BG_OK;
}

long
bg_http_status(const bg_http *h)
{
	long status = 0;

	if (h->easy == NULL ||
	    curl_easy_getinfo(h->easy, CURLINFO_RESPONSE_CODE, &status) != CURLE_OK)
		return 0;
	return status;
}

const char *
bg_http_failure(const bg_http *h, CURLcode rc)
{
	switch (rc) {
	case CURLE_OPERATION_TIMEDOUT:
		return "timeout";
	case CURLE_WRITE_ERROR:
		return h->body.overflow ? "too-large" : "connect";
	case CURLE_SSL_CONNECT_ERROR:
	case CURLE_PEER_FAILED_VERIFICATION:
	case CURLE_SSL_CERTPROBLEM:
	case CURLE_SSL_CIPHER:
	case CURLE_SSL_CACERT_BADFILE:
	case CURLE_SSL_ISSUER_ERROR:
	case CURLE_SSL_PINNEDPUBKEYNOTMATCH:
	case CURLE_SSL_INVALIDCERTSTATUS:
	case CURLE_USE_SSL_FAILED:
		return "tls";
	default:
		return "connect";
	}
}

void
bg_http_free(bg_http *h)
{
	if (h->easy != NULL && !h->borrowed)
		curl_easy_cleanup(h->easy);
	curl_slist_free_all(h->headers);
	bg_buf_free(&h->body);
	h->easy = NULL;
	h->headers = NULL;
}
