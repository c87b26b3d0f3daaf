#!/usr/bin/env python3
"""An independent gRPC client (Python grpcio) for a running suite: for each port it lists the
services over reflection (v1, falling back to v1alpha) and checks standard health, with no token.

Usage: python3 scripts/probe.py [host] ; needs `pip install grpcio grpcio-health-checking grpcio-reflection`.
Exits non-zero if a port does not list its own service or is not SERVING.
"""
import sys

import grpc
from grpc_health.v1 import health_pb2, health_pb2_grpc
from grpc_reflection.v1alpha import reflection_pb2 as alpha_pb2
from grpc_reflection.v1alpha import reflection_pb2_grpc as alpha_grpc

EXPECTED = {
    50051: "bankmkt.v1.CustomerRegistry",
    50052: "bankmkt.v1.Pricing",
    50053: "bankmkt.v1.Coordination",
    50054: "bankmkt.v1.Attribution",
}


def list_services(channel, path):
    """One ListServices exchange on the given reflection method path."""
    request = alpha_pb2.ServerReflectionRequest(list_services="")
    call = channel.stream_stream(
        path,
        request_serializer=alpha_pb2.ServerReflectionRequest.SerializeToString,
        response_deserializer=alpha_pb2.ServerReflectionResponse.FromString,
    )
    # v1 and v1alpha share the same wire messages.
    for response in call(iter([request]), timeout=5):
        return sorted(s.name for s in response.list_services_response.service)
    return []


def main():
    host = sys.argv[1] if len(sys.argv) > 1 else "127.0.0.1"
    failures = 0
    for port, expected in EXPECTED.items():
        with grpc.insecure_channel(f"{host}:{port}") as channel:
            v1 = list_services(channel, "/grpc.reflection.v1.ServerReflection/ServerReflectionInfo")
            v1alpha = list_services(channel, "/grpc.reflection.v1alpha.ServerReflection/ServerReflectionInfo")
            health = health_pb2_grpc.HealthStub(channel)
            status = health.Check(health_pb2.HealthCheckRequest(service=expected), timeout=5).status
            overall = health.Check(health_pb2.HealthCheckRequest(service=""), timeout=5).status
            name = health_pb2.HealthCheckResponse.ServingStatus.Name
            ok = expected in v1 and expected in v1alpha and status == health_pb2.HealthCheckResponse.SERVING
            others = [s for s in v1 if s.startswith("bankmkt.") and s != expected]
            ok = ok and not others
            failures += 0 if ok else 1
            print(f"{host}:{port}  {'OK  ' if ok else 'FAIL'}  health({expected})={name(status)} health('')={name(overall)}")
            print(f"    reflection v1:      {', '.join(v1)}")
            print(f"    reflection v1alpha: {', '.join(v1alpha)}")
    sys.exit(1 if failures else 0)


if __name__ == "__main__":
    main()
