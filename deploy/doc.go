// Package deploy holds the ways aiconfigd is deployed: the container image
// (../Containerfile, make image), compose.yaml beside the platform's
// backend, and the Kubernetes manifests in kubernetes/. Its tests check
// them against the binary's own flags and defaults, and run the image.
//
// It is a Go module of its own so that the compose-spec loader and the
// Kubernetes API types it decodes with stay out of the service's
// dependencies. make test runs it (make test-deploy).
package deploy
