//go:build tools

// Package virtctl only names the command build-virtctl.sh builds, so that
// `go mod tidy` records every module it needs in go.sum.
package virtctl

import _ "kubevirt.io/kubevirt/cmd/virtctl"
