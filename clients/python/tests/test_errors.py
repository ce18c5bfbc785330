"""Decoding grpc-status-details-bin, without the server."""

import unittest

import grpc
from google.protobuf import any_pb2

import aiconfig
from aiconfig._rpc import error_details_pb2, status_pb2
from aiconfig.errors import from_status


def details(*msgs_and_names):
    st = status_pb2.Status(code=9, message="m")
    for msg, name in msgs_and_names:
        st.details.append(any_pb2.Any(type_url="type.googleapis.com/" + name, value=msg.SerializeToString()))
    return st.SerializeToString()


def reasons():
    return [v for k, v in vars(aiconfig.Reason).items() if k.isupper()]


class ErrorsTest(unittest.TestCase):
    def test_every_reason_decodes(self):
        self.assertGreaterEqual(len(reasons()), 23)
        for reason in reasons():
            with self.subTest(reason):
                raw = details(
                    (error_details_pb2.ErrorInfo(reason=reason, domain="aiconfig", metadata={"k": "v"}), "google.rpc.ErrorInfo"),
                    (error_details_pb2.BadRequest(field_violations=[
                        error_details_pb2.BadRequest.FieldViolation(field="f", description="d")]), "google.rpc.BadRequest"))
                e = from_status(grpc.StatusCode.FAILED_PRECONDITION, "what went wrong", raw)
                self.assertIsInstance(e, aiconfig.FailedPreconditionError)
                self.assertEqual((e.code, e.reason, e.metadata, e.message), (grpc.StatusCode.FAILED_PRECONDITION, reason, {"k": "v"}, "what went wrong"))
                self.assertEqual(e.field_violations, [aiconfig.FieldViolation("f", "d")])
                self.assertIn(reason, str(e))

    def test_subclass_per_code(self):
        for code, cls in [(grpc.StatusCode.NOT_FOUND, aiconfig.NotFoundError), (grpc.StatusCode.UNAVAILABLE, aiconfig.UnavailableError),
                          (grpc.StatusCode.INVALID_ARGUMENT, aiconfig.InvalidArgumentError),
                          (grpc.StatusCode.RESOURCE_EXHAUSTED, aiconfig.ResourceExhaustedError),
                          (grpc.StatusCode.ALREADY_EXISTS, aiconfig.AlreadyExistsError),
                          (grpc.StatusCode.INTERNAL, aiconfig.AiconfigError)]:
            e = from_status(code, "x", None)
            self.assertIs(type(e), cls)
            self.assertIsInstance(e, aiconfig.AiconfigError)
            self.assertEqual((e.reason, e.metadata, e.field_violations), ("", {}, []))

    def test_pickles_whole(self):
        import pickle
        e = aiconfig.errors.error(grpc.StatusCode.NOT_FOUND, "no such account", aiconfig.Reason.ACCOUNT_NOT_FOUND,
                                  {"account_id": "x"}, [aiconfig.FieldViolation("f", "d")])
        back = pickle.loads(pickle.dumps(e))
        self.assertIs(type(back), aiconfig.NotFoundError)
        self.assertEqual((back.code, back.message, back.reason, back.metadata, back.field_violations),
                         (e.code, e.message, e.reason, e.metadata, e.field_violations))

    def test_another_domain_is_not_ours_and_garbage_is_survived(self):
        raw = details((error_details_pb2.ErrorInfo(reason="QUOTA", domain="googleapis.com"), "google.rpc.ErrorInfo"))
        self.assertEqual(from_status(grpc.StatusCode.INTERNAL, "x", raw).reason, "")
        e = from_status(grpc.StatusCode.INTERNAL, "x", b"\xff\xff not a status")
        self.assertEqual((e.code, e.message), (grpc.StatusCode.INTERNAL, "x"))

    def test_vendored_protos_do_not_claim_google_rpc(self):
        # Another google.rpc (googleapis-common-protos) may load beside ours.
        self.assertEqual(status_pb2.DESCRIPTOR.name, "aiconfig/_rpc/status.proto")
        self.assertNotEqual(status_pb2.Status.DESCRIPTOR.full_name, "google.rpc.Status")


if __name__ == "__main__":
    unittest.main()
