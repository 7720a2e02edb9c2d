package motoserver

import (
	"bytes"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"net/http/httputil"
	"net/url"
	"regexp"
	"sync"
	"testing"
)

// Fault decides whether a Proxy answers a request itself, with an AWS error
// of code and HTTP status, instead of forwarding it. service is the signing
// name (ec2, elasticloadbalancing, iam, cloudformation), action the query
// Action, n how many calls of that service/action the proxy has seen,
// this one included.
type Fault func(service, action string, n int) (code string, status int, inject bool)

// NoFault forwards everything.
func NoFault(string, string, int) (string, int, bool) { return "", 0, false }

// Proxy is a reverse proxy in front of a moto server for the AWS query
// protocols (EC2, ELBv2, IAM, CloudFormation) that lets a test play what
// moto does not: throttling, transient NotFound, DependencyViolation, access
// denied, statuses moto never shows. Its hooks are keyed by
// "service/action"; set them before the first request.
type Proxy struct {
	// URL is the proxy's base URL: the endpoint to give the SDK.
	URL string
	// Observe, when set, sees every request's form first.
	Observe func(key string, form url.Values)
	// Rewrite, when set, may return a changed form to forward instead of the
	// request's (moto does not check request signatures).
	Rewrite func(key string, form url.Values) url.Values
	// Respond, when set, may change moto's answer to a forwarded call.
	Respond func(key string, body []byte) []byte

	fault  Fault
	mu     sync.Mutex
	calls  map[string]int // service/action -> calls seen
	faults map[string]int // service/action -> faults injected
}

var credentialScopeRE = regexp.MustCompile(`Credential=[^/]+/\d+/[^/]+/([^/]+)/aws4_request`)

// NewProxy starts a Proxy in front of the moto server at target, answering
// with fault where it says so; it stops when the test ends.
func NewProxy(t testing.TB, target string, fault Fault) *Proxy {
	t.Helper()
	u, err := url.Parse(target)
	if err != nil {
		t.Fatalf("motoserver: proxy target %q: %v", target, err)
	}
	rp := httputil.NewSingleHostReverseProxy(u)
	rp.Transport = &http.Transport{Proxy: nil}
	p := &Proxy{fault: fault, calls: map[string]int{}, faults: map[string]int{}}
	rp.ModifyResponse = func(resp *http.Response) error {
		key := resp.Request.Header.Get("X-Test-Key")
		if p.Respond == nil || key == "" {
			return nil
		}
		body, err := io.ReadAll(resp.Body)
		if err != nil {
			return err
		}
		setBody(resp.Header, &resp.Body, &resp.ContentLength, p.Respond(key, body))
		return nil
	}
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		body, _ := io.ReadAll(r.Body)
		r.Body = io.NopCloser(bytes.NewReader(body))
		form, _ := url.ParseQuery(string(body))
		service := ""
		if m := credentialScopeRE.FindStringSubmatch(r.Header.Get("Authorization")); m != nil {
			service = m[1]
		}
		key := service + "/" + form.Get("Action")
		if p.Observe != nil {
			p.Observe(key, form)
		}
		p.mu.Lock()
		p.calls[key]++
		n := p.calls[key]
		p.mu.Unlock()
		if code, status, ok := p.fault(service, form.Get("Action"), n); ok {
			p.mu.Lock()
			p.faults[key]++
			p.mu.Unlock()
			WriteAWSError(w, service, code, status)
			return
		}
		if p.Rewrite != nil {
			if nf := p.Rewrite(key, form); nf != nil {
				setBody(r.Header, &r.Body, &r.ContentLength, []byte(nf.Encode()))
			}
		}
		if p.Respond != nil {
			r.Header.Del("Accept-Encoding") // a plain body to change
			r.Header.Set("X-Test-Key", key)
		}
		rp.ServeHTTP(w, r)
	}))
	t.Cleanup(srv.Close)
	p.URL = srv.URL
	return p
}

// setBody replaces a request's or response's body and its length.
func setBody(h http.Header, body *io.ReadCloser, length *int64, b []byte) {
	*body = io.NopCloser(bytes.NewReader(b))
	*length = int64(len(b))
	h.Set("Content-Length", fmt.Sprint(len(b)))
}

// Calls returns how many calls of key ("service/action") the proxy has seen.
func (p *Proxy) Calls(key string) int {
	p.mu.Lock()
	defer p.mu.Unlock()
	return p.calls[key]
}

// Injected returns how many calls of key the proxy answered with a fault.
func (p *Proxy) Injected(key string) int {
	p.mu.Lock()
	defer p.mu.Unlock()
	return p.faults[key]
}

// WriteAWSError writes an error in the wire format of the service's
// protocol: ec2query for EC2, awsquery for the others (ELBv2, IAM,
// CloudFormation).
func WriteAWSError(w http.ResponseWriter, service, code string, status int) {
	msg := "injected by the test proxy"
	w.Header().Set("Content-Type", "text/xml")
	w.WriteHeader(status)
	if service == "ec2" {
		fmt.Fprintf(w, `<?xml version="1.0" encoding="UTF-8"?><Response><Errors><Error><Code>%s</Code><Message>%s</Message></Error></Errors><RequestID>proxy</RequestID></Response>`, code, msg)
		return
	}
	fmt.Fprintf(w, `<ErrorResponse><Error><Type>Sender</Type><Code>%s</Code><Message>%s</Message></Error><RequestId>proxy</RequestId></ErrorResponse>`, code, msg)
}
