#ifndef MSC_SEND_COPENSSL_SHIM_H
#define MSC_SEND_COPENSSL_SHIM_H
#include <openssl/ssl.h>
#include <openssl/err.h>
#include <openssl/x509v3.h>
#include <openssl/evp.h>
#include <openssl/hmac.h>
#include <openssl/rand.h>

/* Wrappers for what OpenSSL 3 only offers as macros, which Swift cannot import. */
static inline long msc_SSL_set_tlsext_host_name(SSL *ssl, const char *name) {
  return SSL_set_tlsext_host_name(ssl, name);
}
static inline int msc_SSL_CTX_set_min_proto_version(SSL_CTX *ctx, int version) {
  return (int)SSL_CTX_set_min_proto_version(ctx, version);
}
static inline long msc_SSL_CTX_set_mode(SSL_CTX *ctx, long mode) {
  return SSL_CTX_set_mode(ctx, mode);
}
static inline const uint64_t msc_SSL_OP_NO_COMPRESSION(void) { return SSL_OP_NO_COMPRESSION; }
static inline const uint64_t msc_SSL_OP_NO_RENEGOTIATION(void) { return SSL_OP_NO_RENEGOTIATION; }
/* Treat a TCP close without close_notify as end of stream: SMTP replies are self-delimiting, and
   many servers close right after QUIT without a TLS alert. */
static inline const uint64_t msc_SSL_OP_IGNORE_UNEXPECTED_EOF(void) { return SSL_OP_IGNORE_UNEXPECTED_EOF; }
/* X509_NAME_print_ex flags: RFC 2253 order and escaping (control and non-ASCII bytes escaped). */
static inline const unsigned long msc_XN_FLAG_RFC2253(void) { return XN_FLAG_RFC2253; }
static inline long msc_BIO_get_mem_data(BIO *bio, char **pp) { return BIO_get_mem_data(bio, pp); }
#endif
