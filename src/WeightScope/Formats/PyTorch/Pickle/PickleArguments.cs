using WeightScope.IO;

namespace WeightScope.Formats.PyTorch.Pickle;

/// <summary>
/// Reading an opcode's argument bytes with the pickle's bounds checks, shared by the <see cref="Unpickler"/> and the
/// scanner's opcode walk (<c>Security/PickleGlobalWalker</c>): a declared length is checked against what remains before
/// anything is taken, and a text argument must end in a newline.
/// </summary>
internal static class PickleArguments
{
    /// <summary>The next <paramref name="n"/> bytes; a truncation error naming the opcode when fewer remain.</summary>
    public static ReadOnlySpan<byte> Take(ref SpanReader r, int n, PickleOpcode op, long at, PickleErrors errors)
    {
        if (n > r.Remaining) throw errors.Truncated(op, at, n, r.Remaining);
        return r.ReadBytes(n);
    }

    /// <summary>A declared length as an int, checked against what remains before anything is allocated.</summary>
    public static int Length(ulong declared, ref SpanReader r, PickleOpcode op, long at, PickleErrors errors)
    {
        if (declared > (ulong)r.Remaining) throw errors.Truncated(op, at, declared > long.MaxValue ? long.MaxValue : (long)declared, r.Remaining);
        return (int)declared;
    }

    /// <summary>A text argument up to (not including) its newline, which is consumed.</summary>
    public static ReadOnlySpan<byte> Line(ref SpanReader r, PickleOpcode op, long at, PickleErrors errors)
    {
        int nl = r.Data[r.Position..].IndexOf((byte)'\n');
        if (nl < 0) throw errors.Invalid($"{PickleErrors.Name(op)}: its text argument has no terminating newline (the file is truncated)", at);
        var line = r.ReadBytes(nl);
        r.ReadByte();
        return line;
    }
}
