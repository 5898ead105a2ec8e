using System.Collections;
using System.Net;

namespace ClusterContext.Protocol.Tests.Infrastructure;

/// <summary>Structural equality for messages (records whose lists and arrays compare by reference otherwise).</summary>
public static class DeepEquality
{
    public static bool AreEqual(object? a, object? b)
    {
        if (a is null || b is null)
        {
            return a is null && b is null;
        }

        if (a.GetType() != b.GetType())
        {
            return false;
        }

        if (a is string or IPAddress or IPEndPoint or ValueType)
        {
            return a.Equals(b);
        }

        if (a is IEnumerable left)
        {
            var l = left.Cast<object?>().ToList();
            var r = ((IEnumerable)b).Cast<object?>().ToList();
            return l.Count == r.Count && l.Zip(r).All(p => AreEqual(p.First, p.Second));
        }

        var properties = a.GetType().GetProperties().Where(p => p.GetIndexParameters().Length == 0 && p.Name != "EqualityContract");
        return properties.All(p => AreEqual(p.GetValue(a), p.GetValue(b)));
    }
}
