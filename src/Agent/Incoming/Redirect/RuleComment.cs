using System.Text;

namespace ClusterContext.Agent.Incoming.Redirect;

/// <summary>
/// A rule's user data in the layout nft reads as a comment (a type-length-value list; type 0 is the comment, a
/// NUL-terminated string), so <c>nft list ruleset</c> in the pod says which rule is whose. The kernel stores it opaquely.
/// </summary>
internal static class RuleComment
{
    private const byte CommentType = 0;

    public static byte[] Encode(string comment)
    {
        var text = Encoding.UTF8.GetBytes(comment);
        var length = Math.Min(text.Length, 126) + 1;
        var value = new byte[2 + length];
        value[0] = CommentType;
        value[1] = (byte)length;
        text.AsSpan(0, length - 1).CopyTo(value.AsSpan(2));
        return value;
    }
}
