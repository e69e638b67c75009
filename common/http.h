/*
 * libcurl transfers with breakglass's safety settings: http/https only, no
 * redirects, TLS verification always on, a capped response body and one
 * absolute deadline (CLOCK_MONOTONIC) covering DNS, connect, TLS and reads.
 */
#ifndef BG_HTTP_H
#define BG_HTTP_H

#include <stdbool.h>
#include <stddef.h>

#include <curl/curl.h>
#include <json-c/json.h>

#include "buf.h"
#include "status.h"

#define BG_HTTP_MAX_HEADER 1024

typedef struct {
	unsigned long long deadline_ms;   /* bg_monotonic_ms() value to finish by */
	unsigned long connect_timeout_ms; /* 0: only the deadline */
	const char *ca_file;              /* NULL: the system trust store */
	size_t max_body;                  /* larger responses fail ("too-large") */
	const char *capture;              /* a response header to keep, or NULL */
	/*
	 * A handle from bg_http_handle_new to run the transfer on, so a series
	 * of requests to one service reuses its connection (and TLS session);
	 * NULL: a handle of its own.
	 */
	CURL *reuse;
} bg_http_opts;

typedef struct {
	CURL *easy;
	struct curl_slist *headers;
	bg_buf body;
	const char *capture;
	char captured[BG_HTTP_MAX_HEADER];  /* the captured header's value */
	bool captured_set;
	char errbuf[CURL_ERROR_SIZE];
	bool borrowed;                      /* easy belongs to the caller */
} bg_http;

/* Milliseconds of CLOCK_MONOTONIC, for deadlines. */
unsigned long long bg_monotonic_ms(void);

/* A handle for bg_http_opts.reuse; the caller frees it with curl_easy_cleanup. */
CURL *bg_http_handle_new(bg_error *err);

/*
 * Sets up a GET of url with the options above; the caller adds headers,
 * switches to POST with bg_http_set_post, then runs the handle (easy or
 * multi).  BG_ERR_DENIED when the deadline has already passed.
 */
bg_status bg_http_init(bg_http *h, const char *url, const bg_http_opts *o, bg_error *err);
/* Adds a request header line ("Name: value"). */
bg_status bg_http_add_header(bg_http *h, const char *line, bg_error *err);
/* Makes the request a POST of body (copied by libcurl). */
bg_status bg_http_set_post(bg_http *h, const char *body, size_t len, bg_error *err);
/*
 * Parses the whole response body as one JSON value (*out: NULL for a JSON
 * null); BG_ERR_INVALID for anything else.
 */
bg_status bg_http_json_body(const bg_http *h, json_object **out, bg_error *err);
/* The HTTP status of the finished transfer (0 when none). */
long bg_http_status(const bg_http *h);
/*
 * The reason name of a failed transfer, as the journal records it:
 * "timeout", "too-large", "tls" or "connect".
 */
const char *bg_http_failure(const bg_http *h, CURLcode rc);
void bg_http_free(bg_http *h);

#endif
