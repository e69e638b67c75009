/*
 * crypto_floor_approval: the floor against which bench/sudo_overhead.sh
 * measures sudo_breakglass for a break-glass account with a grant.  An
 * approval plugin that does only what every such decision must, with the
 * libraries the plugin's core uses: json-c and the crypto library loaded
 * with the plugin and initialised as the core does it, one Ed25519
 * verification with a raw public key, one JSON parse, and one line appended
 * to the file of its option file=PATH and synced (a journal record's one
 * durable write).  It reads no configuration, grant or key state.
 *
 * Built twice (bench/Makefile.am): with libcrypto, the floor of a core on
 * OpenSSL, and with FLOOR_LIBSODIUM, the floor of the core as it is
 * (common/crypto_sodium.c); the benchmark prints both.
 */
#include <fcntl.h>
#include <stdbool.h>
#include <string.h>
#include <unistd.h>

#include <json-c/json.h>
#ifdef FLOOR_LIBSODIUM
#include <sodium.h>
#else
#include <openssl/crypto.h>
#include <openssl/evp.h>
#endif
#include <sudo_plugin.h>

/* RFC 8032, section 7.1, test 1: the empty message. */
static const unsigned char public_key[32] = {
	0xd7, 0x5a, 0x98, 0x01, 0x82, 0xb1, 0x0a, 0xb7, 0xd5, 0x4b, 0xfe, 0xd3, 0xc9, 0x64,
	0x07, 0x3a, 0x0e, 0xe1, 0x72, 0xf3, 0xda, 0xa6, 0x23, 0x25, 0xaf, 0x02, 0x1a, 0x68,
	0xf7, 0x07, 0x51, 0x1a,
};
static const unsigned char signature[64] = {
	0xe5, 0x56, 0x43, 0x00, 0xc3, 0x60, 0xac, 0x72, 0x90, 0x86, 0xe2, 0xcc, 0x80, 0x6e,
	0x82, 0x8a, 0x84, 0x87, 0x7f, 0x1e, 0xb8, 0xe5, 0xd9, 0x74, 0xd8, 0x73, 0xe0, 0x65,
	0x22, 0x49, 0x01, 0x55, 0x5f, 0xb8, 0x82, 0x15, 0x90, 0xa3, 0x3b, 0xac, 0xc6, 0x1e,
	0x39, 0x70, 0x1c, 0xf9, 0xb4, 0x6b, 0xd2, 0x5b, 0xf5, 0xf0, 0x59, 0x5b, 0xbe, 0x24,
	0x65, 0x51, 0x41, 0x43, 0x8e, 0x7a, 0x10, 0x0b,
};
static const char record[] = "{\"event\":\"sudo.accepted\",\"outcome\":\"success\"}\n";

static const char *file;

static int
floor_open(unsigned int version, sudo_conv_t conversation, sudo_printf_t plugin_printf,
    char *const settings[], char *const user_info[], int submit_optind,
    char *const submit_argv[], char *const submit_envp[], char *const plugin_options[],
    const char **errstr)
{
	for (size_t i = 0; plugin_options != NULL && plugin_options[i] != NULL; i++)
		if (strncmp(plugin_options[i], "file=", 5) == 0)
			file = plugin_options[i] + 5;
	return 1;
}

static void
floor_close(void)
{
}

#ifdef FLOOR_LIBSODIUM
static bool
init(void)
{
	return sodium_init() >= 0;
}

static bool
verify(void)
{
	return crypto_sign_verify_detached(signature, NULL, 0, public_key) == 0;
}
#else
static bool
init(void)
{
	return OPENSSL_init_crypto(OPENSSL_INIT_NO_LOAD_CONFIG | OPENSSL_INIT_NO_ADD_ALL_CIPHERS |
	    OPENSSL_INIT_NO_ADD_ALL_DIGESTS | OPENSSL_INIT_NO_LOAD_CRYPTO_STRINGS |
	    OPENSSL_INIT_NO_ATEXIT, NULL) == 1;
}

static bool
verify(void)
{
	EVP_PKEY *key = EVP_PKEY_new_raw_public_key(EVP_PKEY_ED25519, NULL, public_key,
	    sizeof(public_key));
	EVP_MD_CTX *md = EVP_MD_CTX_new();
	bool ok = key != NULL && md != NULL &&
	    EVP_DigestVerifyInit(md, NULL, NULL, NULL, key) == 1 &&
	    EVP_DigestVerify(md, signature, sizeof(signature), NULL, 0) == 1;

	EVP_MD_CTX_free(md);
	EVP_PKEY_free(key);
	return ok;
}
#endif

static bool
append(void)
{
	int fd = file != NULL ? open(file, O_WRONLY | O_APPEND | O_CREAT | O_CLOEXEC, 0600) : -1;
	bool ok = fd >= 0 && write(fd, record, sizeof(record) - 1) == sizeof(record) - 1 &&
	    fdatasync(fd) == 0;

	if (fd >= 0)
		close(fd);
	return ok;
}

/* Approves only when all of it worked: the benchmark stops on a refusal. */
static int
floor_check(char *const command_info[], char *const run_argv[], char *const run_envp[],
    const char **errstr)
{
	json_object *parsed;
	bool ok;

	if (!init())
		return 0;
	parsed = json_tokener_parse(record);
	ok = parsed != NULL && verify() && append();
	json_object_put(parsed);
	return ok ? 1 : 0;
}

__attribute__((visibility("default"))) struct approval_plugin crypto_floor_approval = {
	.type = SUDO_APPROVAL_PLUGIN,
	.version = SUDO_API_VERSION,
	.open = floor_open,
	.close = floor_close,
	.check = floor_check,
};
