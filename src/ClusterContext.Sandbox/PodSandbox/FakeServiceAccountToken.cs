using System.Buffers.Text;
using System.Text;

namespace ClusterContext.Testing.Sandbox;

/// <summary>A token shaped like a projected service-account JWT, so parsers that split and decode it work; it is not signed.</summary>
public static class FakeServiceAccountToken
{
    /// <summary>The token of service account <c>default</c> of pod <c>shop/orders-7d9f8-abcde</c>.</summary>
    public static readonly string Value = Create("shop", "orders-7d9f8-abcde", "default");

    /// <summary>A token naming <paramref name="serviceAccount"/> of <paramref name="pod"/> in <paramref name="namespace"/> (<c>sub</c> <c>system:serviceaccount:NS:SA</c>).</summary>
    public static string Create(string @namespace, string pod, string serviceAccount)
    {
        const string header = """{"alg":"RS256","kid":"pod-sandbox"}""";
        var payload = $$$"""
            {"aud":["https://kubernetes.default.svc.cluster.local"],"exp":4102444800,"iat":1763791200,"iss":"https://kubernetes.default.svc.cluster.local","kubernetes.io":{"namespace":"{{{@namespace}}}","pod":{"name":"{{{pod}}}"},"serviceaccount":{"name":"{{{serviceAccount}}}"}},"nbf":1763791200,"sub":"system:serviceaccount:{{{@namespace}}}:{{{serviceAccount}}}"}
            """;
        return $"{Encode(header)}.{Encode(payload)}.{Encode("pod-sandbox-signature")}";
    }

    private static string Encode(string text) => Base64Url.EncodeToString(Encoding.UTF8.GetBytes(text));
}
