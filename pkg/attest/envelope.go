package attest

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"

	"github.com/secure-systems-lab/go-securesystemslib/dsse"
	"github.com/sigstore/sigstore/pkg/signature"
	sigdsse "github.com/sigstore/sigstore/pkg/signature/dsse"
)

// ErrBadSignature is wrapped by Open's error when the envelope does not
// verify with the key: it was tampered with or signed by another key.
var ErrBadSignature = errors.New("bad signature")

// Sign signs an in-toto statement as a DSSE envelope (payload type
// PayloadType), as cosign attest does, and returns the envelope's JSON.
func Sign(ctx context.Context, s signature.Signer, statement []byte) ([]byte, error) {
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	env, err := sigdsse.WrapSigner(s, PayloadType).SignMessage(bytes.NewReader(statement))
	if err != nil {
		return nil, fmt.Errorf("signing the statement: %w", err)
	}
	return env, nil
}

// Open verifies a DSSE envelope with v and returns its payload, the
// statement. A malformed envelope, another payload type or a signature
// that does not verify wrap ErrBadSignature.
func Open(ctx context.Context, envelope []byte, v signature.Verifier) ([]byte, error) {
	var env dsse.Envelope
	if err := json.Unmarshal(envelope, &env); err != nil {
		return nil, fmt.Errorf("%w: malformed envelope", ErrBadSignature)
	}
	if env.PayloadType != PayloadType {
		return nil, fmt.Errorf("%w: payload type %q is not %s", ErrBadSignature, env.PayloadType, PayloadType)
	}
	ev, err := dsse.NewEnvelopeVerifier(&sigdsse.VerifierAdapter{SignatureVerifier: v})
	if err != nil {
		return nil, err
	}
	if _, err := ev.Verify(ctx, &env); err != nil {
		return nil, fmt.Errorf("%w: the envelope does not verify with the key", ErrBadSignature)
	}
	payload, err := env.DecodeB64Payload()
	if err != nil {
		return nil, fmt.Errorf("%w: malformed payload", ErrBadSignature)
	}
	return payload, nil
}

func sha256Digest(b []byte) string {
	h := sha256.Sum256(b)
	return "sha256:" + hex.EncodeToString(h[:])
}

// SignVerdict signs v's test-result statement and, when reportJSON is not
// nil, a second statement carrying the report (PredicateReport).
func SignVerdict(ctx context.Context, s signature.Signer, v Verdict, reportJSON []byte) ([]Attestation, error) {
	st, err := v.Statement()
	if err != nil {
		return nil, err
	}
	env, err := Sign(ctx, s, st)
	if err != nil {
		return nil, err
	}
	atts := []Attestation{{PredicateType: PredicateTestResult, Envelope: env}}
	if reportJSON != nil {
		st, err := ReportStatement(v.Subject, v.Digest, reportJSON)
		if err != nil {
			return nil, err
		}
		env, err := Sign(ctx, s, st)
		if err != nil {
			return nil, err
		}
		atts = append(atts, Attestation{PredicateType: PredicateReport, Envelope: env})
	}
	return atts, nil
}
