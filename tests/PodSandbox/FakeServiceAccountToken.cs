using System.Buffers.Text;
using System.Text;

namespace ClusterContext.Testing.Sandbox;

/// <summary>A token shaped like a projected service-account JWT, so parsers that split and decode it work; it is not signed.</summary>
internal static class FakeServiceAccountToken
{
    public static readonly string Value = Create();

    private static string Create()
    {
        const string header = """{"alg":"RS256","kid":"pod-sandbox"}""";
        const string payload = """
            {"aud":["https://kubernetes.default.svc.cluster.local"],"exp":4102444800,"iat":1763791200,"iss":"https://kubernetes.default.svc.cluster.local","kubernetes.io":{"namespace":"shop","pod":{"name":"orders-7d9f8-abcde"},"serviceaccount":{"name":"default"}},"nbf":1763791200,"sub":"system:serviceaccount:shop:default"}
            """;
        return $"{Encode(header)}.{Encode(payload)}.{Encode("pod-sandbox-signature")}";
    }

    private static string Encode(string text) => Base64Url.EncodeToString(Encoding.UTF8.GetBytes(text));
}
