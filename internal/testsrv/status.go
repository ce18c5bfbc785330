package testsrv

import (
	"context"
	"strings"
	"testing"

	"google.golang.org/protobuf/proto"
	"google.golang.org/protobuf/reflect/protoreflect"
	"google.golang.org/protobuf/reflect/protoregistry"

	"google.golang.org/genproto/googleapis/rpc/errdetails"
	"google.golang.org/grpc"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"
)

// Failure is a decoded error status.
type Failure struct {
	Code       codes.Code
	Message    string
	Info       *errdetails.ErrorInfo
	Violations map[string]string // field → description
}

// Decode reads code, ErrorInfo and BadRequest details from an error.
func Decode(err error) Failure {
	st, _ := status.FromError(err)
	f := Failure{Code: st.Code(), Message: st.Message(), Violations: map[string]string{}}
	for _, d := range st.Details() {
		switch d := d.(type) {
		case *errdetails.ErrorInfo:
			f.Info = d
		case *errdetails.BadRequest:
			for _, v := range d.GetFieldViolations() {
				f.Violations[v.GetField()] = v.GetDescription()
			}
		}
	}
	return f
}

// WantError fails the test unless err has the code and ErrorInfo reason
// (domain "aiconfig"), and returns the decoded failure.
func WantError(t testing.TB, err error, code codes.Code, reason string) Failure {
	t.Helper()
	if err == nil {
		t.Fatalf("got success, want %s %s", code, reason)
	}
	f := Decode(err)
	if f.Code != code {
		t.Fatalf("code = %s (%s), want %s %s", f.Code, f.Message, code, reason)
	}
	if f.Info == nil || f.Info.GetReason() != reason || f.Info.GetDomain() != "aiconfig" {
		t.Fatalf("error info = %v (%s), want reason %s in domain aiconfig", f.Info, f.Message, reason)
	}
	return f
}

// WantViolation is WantError for INVALID_ARGUMENT that also names field.
func WantViolation(t testing.TB, err error, reason, field string) Failure {
	t.Helper()
	f := WantError(t, err, codes.InvalidArgument, reason)
	if _, ok := f.Violations[field]; !ok {
		t.Fatalf("violations %v do not name %q (%s)", f.Violations, field, f.Message)
	}
	return f
}

// Messages returns empty request and response messages of a full method name.
func Messages(t testing.TB, method string) (proto.Message, proto.Message) {
	t.Helper()
	svc, m, _ := strings.Cut(strings.TrimPrefix(method, "/"), "/")
	d, err := protoregistry.GlobalFiles.FindDescriptorByName(protoreflect.FullName(svc))
	if err != nil {
		t.Fatal(err)
	}
	md := d.(protoreflect.ServiceDescriptor).Methods().ByName(protoreflect.Name(m)) //nolint:forcetypeassert // the name was found as a service
	in, err := protoregistry.GlobalTypes.FindMessageByName(md.Input().FullName())
	if err != nil {
		t.Fatal(err)
	}
	out, err := protoregistry.GlobalTypes.FindMessageByName(md.Output().FullName())
	if err != nil {
		t.Fatal(err)
	}
	return in.New().Interface(), out.New().Interface()
}

// Call invokes any method with one request: unary, or a server stream
// whose first message is read (then the stream is dropped).
func Call(ctx context.Context, conn *grpc.ClientConn, method string, req, resp proto.Message) error {
	svc, m, _ := strings.Cut(strings.TrimPrefix(method, "/"), "/")
	d, err := protoregistry.GlobalFiles.FindDescriptorByName(protoreflect.FullName(svc))
	if err != nil {
		return err
	}
	if !d.(protoreflect.ServiceDescriptor).Methods().ByName(protoreflect.Name(m)).IsStreamingServer() { //nolint:forcetypeassert // the name was found as a service
		return conn.Invoke(ctx, method, req, resp)
	}
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	cs, err := conn.NewStream(ctx, &grpc.StreamDesc{ServerStreams: true}, method)
	if err != nil {
		return err
	}
	if err := cs.SendMsg(req); err != nil {
		return err
	}
	if err := cs.CloseSend(); err != nil {
		return err
	}
	return cs.RecvMsg(resp)
}
