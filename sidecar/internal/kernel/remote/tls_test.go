package remote

import (
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/pem"
	"errors"
	"math/big"
	"net"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/mcp-jupyter/mcp-jupyter/sidecar/internal/kernel"
	"github.com/mcp-jupyter/mcp-jupyter/sidecar/internal/kernel/remote/remotetest"
)

// writeCA makes a CA and a 127.0.0.1 server certificate signed by it.
func writeCA(t *testing.T, dir string) (caFile, certFile, keyFile string) {
	t.Helper()
	caKey, _ := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	ca := &x509.Certificate{SerialNumber: big.NewInt(1), Subject: pkix.Name{CommonName: "mcp-jupyter test CA"},
		NotBefore: time.Now().Add(-time.Hour), NotAfter: time.Now().Add(24 * time.Hour),
		IsCA: true, BasicConstraintsValid: true, KeyUsage: x509.KeyUsageCertSign}
	caDER, err := x509.CreateCertificate(rand.Reader, ca, ca, &caKey.PublicKey, caKey)
	if err != nil {
		t.Fatal(err)
	}
	caCert, _ := x509.ParseCertificate(caDER)
	key, _ := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	leaf := &x509.Certificate{SerialNumber: big.NewInt(2), Subject: pkix.Name{CommonName: "127.0.0.1"},
		NotBefore: time.Now().Add(-time.Hour), NotAfter: time.Now().Add(24 * time.Hour),
		IPAddresses: []net.IP{net.ParseIP("127.0.0.1")}, ExtKeyUsage: []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth},
		KeyUsage: x509.KeyUsageDigitalSignature}
	der, err := x509.CreateCertificate(rand.Reader, leaf, caCert, &key.PublicKey, caKey)
	if err != nil {
		t.Fatal(err)
	}
	kb, _ := x509.MarshalECPrivateKey(key)
	write := func(name, typ string, b []byte) string {
		p := filepath.Join(dir, name)
		if err := os.WriteFile(p, pem.EncodeToMemory(&pem.Block{Type: typ, Bytes: b}), 0o600); err != nil {
			t.Fatal(err)
		}
		return p
	}
	return write("ca.pem", "CERTIFICATE", caDER), write("cert.pem", "CERTIFICATE", der), write("key.pem", "EC PRIVATE KEY", kb)
}

// TestTLS: https with a private CA works with CAFile and is refused without it.
func TestTLS(t *testing.T) {
	dir := t.TempDir()
	caFile, certFile, keyFile := writeCA(t, dir)
	s := remotetest.StartTLS(t, certFile, keyFile)
	plain, err := NewClient(Config{URL: s.URL, Token: s.Token})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := Start(testCtx(t, 60*time.Second), plain, "python3", Options{}); !errors.Is(err, ErrUnreachable) {
		t.Fatalf("unknown CA accepted or unclear error: %v", err)
	}
	c, err := NewClient(Config{URL: s.URL, Token: s.Token, CAFile: caFile})
	if err != nil {
		t.Fatal(err)
	}
	k, err := Start(testCtx(t, 120*time.Second), c, "python3", Options{})
	if err != nil {
		t.Fatalf("start over https: %v", err)
	}
	defer k.Shutdown(testCtx(t, 60*time.Second))
	col := newCollector()
	run(t, k, "print('over tls')", kernel.Handlers{OnIOPub: col.on})
	if col.stdout() != "over tls\n" {
		t.Fatalf("stdout %q", col.stdout())
	}
	if _, err := NewClient(Config{URL: s.URL, CAFile: filepath.Join(dir, "key.pem")}); err == nil {
		t.Fatal("a CA file without a certificate accepted")
	}
}
