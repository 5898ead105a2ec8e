using System.Text;
using System.Text.Json.Nodes;

namespace ClusterContext.Testing.Kube;

/// <summary>
/// Reads the Kubernetes protobuf encoding (<c>application/vnd.kubernetes.protobuf</c>: the <c>k8s\0</c> magic, then a
/// <c>runtime.Unknown</c> holding the type and the object's bytes) of the kinds client-go's typed clients create and
/// update here, ConfigMap and Secret (what <c>kubectl create configmap|secret</c> sends) and SelfSubjectAccessReview
/// (what <c>kubectl auth can-i</c> sends), into the JSON the server
/// would have stored; the metadata fields a client sets on create (name, generateName, namespace, resourceVersion,
/// labels, annotations, finalizers). Other kinds in protobuf are answered 415.
/// </summary>
internal static class ProtobufBody
{
    public const string ContentType = "application/vnd.kubernetes.protobuf";

    public static bool CanRead(string resource) => resource is "configmaps" or "secrets" or "selfsubjectaccessreviews";

    public static JsonObject Decode(string resource, byte[] body)
    {
        if (body.Length < 4 || !body.AsSpan(0, 4).SequenceEqual("k8s\0"u8))
        {
            throw PatchException.BadRequest("provided protobuf data does not contain the expected prefix");
        }

        var (apiVersion, kind, raw) = ("", "", Array.Empty<byte>());
        foreach (var (field, value) in Fields(body.AsMemory(4)))
        {
            switch (field)
            {
                case 1:
                    foreach (var (typeField, typeValue) in Fields(value))
                    {
                        if (typeField == 1)
                        {
                            apiVersion = Text(typeValue);
                        }
                        else if (typeField == 2)
                        {
                            kind = Text(typeValue);
                        }
                    }

                    break;
                case 2:
                    raw = value.ToArray();
                    break;
            }
        }

        var result = new JsonObject { ["apiVersion"] = apiVersion, ["kind"] = kind, ["metadata"] = new JsonObject() };
        foreach (var (field, value) in Fields(raw))
        {
            switch (resource, field)
            {
                case (_, 1):
                    result["metadata"] = Metadata(value);
                    break;
                case ("configmaps", 2):
                    AddEntry(result, "data", value, binary: false);
                    break;
                case ("configmaps", 3) or ("secrets", 5):
                    result["immutable"] = Varint(value.Span) != 0;
                    break;
                case ("configmaps", 4) or ("secrets", 2):
                    AddEntry(result, resource == "secrets" ? "data" : "binaryData", value, binary: true);
                    break;
                case ("secrets", 3) when !value.IsEmpty:
                    result["type"] = Text(value);
                    break;
                case ("secrets", 4):
                    AddEntry(result, "stringData", value, binary: false);
                    break;
                case ("selfsubjectaccessreviews", 2):
                    result["spec"] = AccessReviewSpec(value);
                    break;
            }
        }

        return result;
    }

    /// <summary>A SelfSubjectAccessReviewSpec: its resourceAttributes (namespace, verb, group, version, resource, subresource, name).</summary>
    private static JsonObject AccessReviewSpec(ReadOnlyMemory<byte> bytes)
    {
        string[] names = ["namespace", "verb", "group", "version", "resource", "subresource", "name"];
        var spec = new JsonObject();
        foreach (var (field, value) in Fields(bytes))
        {
            if (field == 1)
            {
                var attributes = new JsonObject();
                foreach (var (attribute, text) in Fields(value))
                {
                    if (attribute is >= 1 and <= 7)
                    {
                        attributes[names[attribute - 1]] = Text(text);
                    }
                }

                spec["resourceAttributes"] = attributes;
            }
        }

        return spec;
    }

    private static JsonObject Metadata(ReadOnlyMemory<byte> bytes)
    {
        var metadata = new JsonObject();
        foreach (var (field, value) in Fields(bytes))
        {
            if (value.IsEmpty)
            {
                continue; // protobuf writes unset strings as empty ones; JSON leaves them out
            }

            switch (field)
            {
                case 1:
                    metadata["name"] = Text(value);
                    break;
                case 2:
                    metadata["generateName"] = Text(value);
                    break;
                case 3:
                    metadata["namespace"] = Text(value);
                    break;
                case 6:
                    metadata["resourceVersion"] = Text(value);
                    break;
                case 11:
                    AddEntry(metadata, "labels", value, binary: false);
                    break;
                case 12:
                    AddEntry(metadata, "annotations", value, binary: false);
                    break;
                case 14:
                    (metadata["finalizers"] as JsonArray ?? (JsonArray)(metadata["finalizers"] = new JsonArray())).Add(Text(value));
                    break;
            }
        }

        return metadata;
    }

    /// <summary>One entry of a protobuf map (key 1, value 2) into <paramref name="field"/>; bytes become base64, as in JSON.</summary>
    private static void AddEntry(JsonObject target, string field, ReadOnlyMemory<byte> entry, bool binary)
    {
        var (key, value) = ("", ReadOnlyMemory<byte>.Empty);
        foreach (var (number, bytes) in Fields(entry))
        {
            if (number == 1)
            {
                key = Text(bytes);
            }
            else if (number == 2)
            {
                value = bytes;
            }
        }

        if (target[field] is not JsonObject map)
        {
            map = [];
            target[field] = map;
        }

        map[key] = binary ? Convert.ToBase64String(value.Span) : Text(value);
    }

    /// <summary>The fields of a message: number and bytes (a varint's own bytes for wire type 0); other wire types are skipped.</summary>
    private static List<(int Field, ReadOnlyMemory<byte> Value)> Fields(ReadOnlyMemory<byte> message)
    {
        var fields = new List<(int, ReadOnlyMemory<byte>)>();
        var position = 0;
        var span = message.Span;
        while (position < span.Length)
        {
            var tag = ReadVarint(span, ref position);
            var field = (int)(tag >> 3);
            switch (tag & 7)
            {
                case 0:
                    var start = position;
                    ReadVarint(span, ref position);
                    fields.Add((field, message[start..position]));
                    break;
                case 1:
                    position += 8;
                    break;
                case 2:
                    var length = (int)ReadVarint(span, ref position);
                    if (length < 0 || position + length > span.Length)
                    {
                        throw PatchException.BadRequest("protobuf: a length runs past the end of the body");
                    }

                    fields.Add((field, message.Slice(position, length)));
                    position += length;
                    break;
                case 5:
                    position += 4;
                    break;
                default:
                    throw PatchException.BadRequest($"protobuf: unknown wire type {tag & 7}");
            }
        }

        return fields;
    }

    private static ulong ReadVarint(ReadOnlySpan<byte> span, ref int position)
    {
        ulong value = 0;
        for (var shift = 0; shift < 64; shift += 7)
        {
            if (position >= span.Length)
            {
                throw PatchException.BadRequest("protobuf: the body ends inside a number");
            }

            var next = span[position++];
            value |= (ulong)(next & 0x7f) << shift;
            if (next < 0x80)
            {
                return value;
            }
        }

        throw PatchException.BadRequest("protobuf: a number is too long");
    }

    private static ulong Varint(ReadOnlySpan<byte> bytes)
    {
        var position = 0;
        return ReadVarint(bytes, ref position);
    }

    private static string Text(ReadOnlyMemory<byte> bytes) => Encoding.UTF8.GetString(bytes.Span);
}
