package server

import (
	"crypto/tls"
	"crypto/x509"
	"errors"
	"fmt"
	"os"
	"sync"
	"time"
)

// TLSConfig serves certFile/keyFile, re-reading them (and the client CA
// bundle) when a file's modification time changes, so certificate
// rotation needs no restart. With clientCAFile set, clients must present
// a certificate it signed (mutual TLS).
func TLSConfig(certFile, keyFile, clientCAFile string) (*tls.Config, error) {
	r := &reloader{cert: certFile, key: keyFile, ca: clientCAFile}
	if _, err := r.current(); err != nil {
		return nil, err
	}
	return &tls.Config{
		MinVersion: tls.VersionTLS12,
		GetConfigForClient: func(*tls.ClientHelloInfo) (*tls.Config, error) {
			return r.current()
		},
	}, nil
}

type reloader struct {
	cert, key, ca string
	mu            sync.Mutex
	stamp         string
	conf          *tls.Config
}

func (r *reloader) current() (*tls.Config, error) {
	stamp := ""
	for _, f := range []string{r.cert, r.key, r.ca} {
		if f == "" {
			continue
		}
		st, err := os.Stat(f)
		if err != nil {
			return nil, fmt.Errorf("TLS file: %w", err)
		}
		stamp += st.ModTime().Format(time.RFC3339Nano) + fmt.Sprint(st.Size())
	}
	r.mu.Lock()
	defer r.mu.Unlock()
	if r.conf != nil && stamp == r.stamp {
		return r.conf, nil
	}
	cert, err := tls.LoadX509KeyPair(r.cert, r.key)
	if err != nil {
		if r.conf != nil {
			return r.conf, nil // mid-rotation (cert and key not both written yet): keep the last good pair
		}
		return nil, fmt.Errorf("AICONFIG_TLS_CERT/AICONFIG_TLS_KEY: %w", err)
	}
	conf := &tls.Config{MinVersion: tls.VersionTLS12, Certificates: []tls.Certificate{cert}}
	if r.ca != "" {
		pem, err := os.ReadFile(r.ca)
		if err != nil {
			return nil, fmt.Errorf("AICONFIG_TLS_CLIENT_CA: %w", err)
		}
		pool := x509.NewCertPool()
		if !pool.AppendCertsFromPEM(pem) {
			return nil, errors.New("AICONFIG_TLS_CLIENT_CA: no PEM certificates in the file")
		}
		conf.ClientCAs, conf.ClientAuth = pool, tls.RequireAndVerifyClientCert
	}
	r.conf, r.stamp = conf, stamp
	return conf, nil
}
