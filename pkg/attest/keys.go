package attest

import (
	"crypto"
	"crypto/ecdsa"
	"crypto/ed25519"
	"crypto/elliptic"
	"crypto/x509"
	"encoding/pem"
	"errors"
	"fmt"
	"os"

	"github.com/secure-systems-lab/go-securesystemslib/encrypted"
	"github.com/sigstore/sigstore/pkg/signature"
)

// PEM block types of private keys imgaudit reads: cosign's encrypted key
// pairs (`cosign generate-key-pair`; the older and the current type name)
// and plain keys.
const (
	pemEncryptedSigstore = "ENCRYPTED SIGSTORE PRIVATE KEY"
	pemEncryptedCosign   = "ENCRYPTED COSIGN PRIVATE KEY"
	pemPKCS8             = "PRIVATE KEY"
	pemSEC1              = "EC PRIVATE KEY"
	pemPublic            = "PUBLIC KEY"
)

// ErrPassword is returned when an encrypted key does not decrypt with the
// password given.
var ErrPassword = errors.New("the key does not decrypt with this password (COSIGN_PASSWORD)")

// LoadPrivateKey reads a signing key: a cosign key pair's private key
// (scrypt and secretbox encrypted; password returns its password, and is
// only called for such a key) or a PKCS#8 or SEC 1 PEM key. ECDSA P-256
// and Ed25519 keys are accepted. Errors never quote the key or the
// password.
func LoadPrivateKey(pemBytes []byte, password func() ([]byte, error)) (signature.SignerVerifier, error) {
	block, _ := pem.Decode(pemBytes)
	if block == nil {
		return nil, errors.New("not a PEM private key")
	}
	der := block.Bytes
	switch block.Type {
	case pemEncryptedSigstore, pemEncryptedCosign:
		if password == nil {
			return nil, errors.New("the key is encrypted and no password was given")
		}
		pw, err := password()
		if err != nil {
			return nil, err
		}
		if der, err = encrypted.Decrypt(der, pw); err != nil {
			return nil, ErrPassword
		}
		fallthrough
	case pemPKCS8:
		priv, err := x509.ParsePKCS8PrivateKey(der)
		if err != nil {
			return nil, errors.New("malformed PKCS#8 private key")
		}
		return signerFor(priv)
	case pemSEC1:
		priv, err := x509.ParseECPrivateKey(der)
		if err != nil {
			return nil, errors.New("malformed EC private key")
		}
		return signerFor(priv)
	case pemPublic:
		return nil, errors.New("this is a public key; signing needs the private key")
	}
	return nil, fmt.Errorf("unsupported PEM block %q (want a cosign key or a PKCS#8 private key)", block.Type)
}

func signerFor(priv crypto.PrivateKey) (signature.SignerVerifier, error) {
	switch k := priv.(type) {
	case *ecdsa.PrivateKey:
		if k.Curve != elliptic.P256() {
			return nil, fmt.Errorf("unsupported ECDSA curve %s (want P-256)", k.Curve.Params().Name)
		}
	case ed25519.PrivateKey:
	default:
		return nil, fmt.Errorf("unsupported key type %T (want ECDSA P-256 or Ed25519)", priv)
	}
	sv, err := signature.LoadSignerVerifier(priv, crypto.SHA256)
	if err != nil {
		return nil, fmt.Errorf("loading the key: %w", err)
	}
	return sv, nil
}

// LoadPublicKey reads a PEM public key (cosign.pub, or any PKIX ECDSA P-256
// or Ed25519 key).
func LoadPublicKey(pemBytes []byte) (signature.Verifier, error) {
	block, _ := pem.Decode(pemBytes)
	if block == nil || block.Type != pemPublic {
		return nil, errors.New("not a PEM public key")
	}
	pub, err := x509.ParsePKIXPublicKey(block.Bytes)
	if err != nil {
		return nil, errors.New("malformed public key")
	}
	switch k := pub.(type) {
	case *ecdsa.PublicKey:
		if k.Curve != elliptic.P256() {
			return nil, fmt.Errorf("unsupported ECDSA curve %s (want P-256)", k.Curve.Params().Name)
		}
	case ed25519.PublicKey:
	default:
		return nil, fmt.Errorf("unsupported key type %T (want ECDSA P-256 or Ed25519)", pub)
	}
	v, err := signature.LoadVerifier(pub, crypto.SHA256)
	if err != nil {
		return nil, fmt.Errorf("loading the public key: %w", err)
	}
	return v, nil
}

// LoadPrivateKeyFile is LoadPrivateKey of the file at path; errors name
// the file, never its content.
func LoadPrivateKeyFile(path string, password func() ([]byte, error)) (signature.SignerVerifier, error) {
	b, err := os.ReadFile(path)
	if err != nil {
		return nil, fmt.Errorf("reading the key: %w", err)
	}
	sv, err := LoadPrivateKey(b, password)
	if err != nil {
		return nil, fmt.Errorf("key %s: %w", path, err)
	}
	return sv, nil
}

// LoadPublicKeyFile is LoadPublicKey of the file at path.
func LoadPublicKeyFile(path string) (signature.Verifier, error) {
	b, err := os.ReadFile(path)
	if err != nil {
		return nil, fmt.Errorf("reading the public key: %w", err)
	}
	v, err := LoadPublicKey(b)
	if err != nil {
		return nil, fmt.Errorf("public key %s: %w", path, err)
	}
	return v, nil
}
