package main

import (
	"os"
	"sync"
	"testing"

	"github.com/hybrid-llm/platform/internal/testing/motoserver"
)

// One moto server serves every test of the package that needs one; it is
// started by the first such test and stopped by TestMain. Tests reset it
// (moto.Reset) before they create anything.
var (
	motoOnce   sync.Once
	motoServer *motoserver.Server
	motoErr    error
)

func sharedMoto(t *testing.T) *motoserver.Server {
	t.Helper()
	motoOnce.Do(func() { motoServer, motoErr = motoserver.Start() })
	if motoErr != nil {
		t.Fatal(motoErr)
	}
	return motoServer
}

func TestMain(m *testing.M) {
	code := m.Run()
	if motoServer != nil {
		motoServer.Stop()
	}
	os.Exit(code)
}

// lambdaEnv sets the environment the function reads on Lambda, pointed at
// moto (CloudFormation at cfnURL, a proxy in front of moto), with fake
// credentials and nothing from the machine's AWS configuration.
func lambdaEnv(t *testing.T, motoURL, cfnURL string) {
	t.Helper()
	for k, v := range map[string]string{
		"AWS_ENDPOINT_URL":                motoURL,
		"AWS_ENDPOINT_URL_CLOUDFORMATION": cfnURL,
		"AWS_ACCESS_KEY_ID":               "testing",
		"AWS_SECRET_ACCESS_KEY":           "testing",
		"AWS_SESSION_TOKEN":               "",
		"AWS_REGION":                      "us-west-2",
		"AWS_PROFILE":                     "",
		"AWS_CONFIG_FILE":                 "/dev/null",
		"AWS_SHARED_CREDENTIALS_FILE":     "/dev/null",
		"HTTP_PROXY":                      "",
		"HTTPS_PROXY":                     "",
		"NO_PROXY":                        "127.0.0.1",
		// Short pauses: moto answers at once, and the throttling the
		// tests inject needs no long backoff.
		"SWEEP_POLL_SECONDS":              "0.05",
		"SWEEP_RETRY_MAX_BACKOFF_SECONDS": "0.05",
	} {
		t.Setenv(k, v)
	}
}
