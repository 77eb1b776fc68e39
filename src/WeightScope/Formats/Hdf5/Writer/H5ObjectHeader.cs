using System.Buffers.Binary;
using WeightScope.Writing;

namespace WeightScope.Formats.Hdf5.Writer;

/// <summary>
/// A version 1 object header (specification §IV.A.1.a): a 16-byte prefix (version, message count, reference count,
/// header size, 4 bytes of alignment) and one chunk of messages, each an 8-byte message header and a body padded to a
/// multiple of 8 (libhdf5 refuses unaligned v1 messages).
/// </summary>
internal sealed class H5ObjectHeader
{
    private const int PrefixSize = 16;
    private const int MessageHeaderSize = 8;
    private readonly List<(int Type, int Flags, byte[] Body)> _messages = [];

    /// <summary>Adds a message; its body is padded when encoded.</summary>
    /// <exception cref="ModelWriteException">The body does not fit a v1 message's 16-bit size.</exception>
    public H5ObjectHeader Add(int type, byte[] body, int flags = 0)
    {
        if (H5Messages.Pad8(body.Length) > ushort.MaxValue)
            throw new ModelWriteException($"hdf5: a header message of {body.Length} bytes does not fit an object header (at most {ushort.MaxValue - 7})");
        _messages.Add((type, flags, body));
        return this;
    }

    /// <summary>Bytes the header occupies in the file.</summary>
    public int Size => PrefixSize + _messages.Sum(m => MessageHeaderSize + H5Messages.Pad8(m.Body.Length));

    /// <summary>Encodes the header into <paramref name="destination"/> (at least <see cref="Size"/> bytes, zeroed).</summary>
    public void Encode(Span<byte> destination)
    {
        destination[0] = 1; // version
        BinaryPrimitives.WriteUInt16LittleEndian(destination[2..], (ushort)_messages.Count);
        BinaryPrimitives.WriteUInt32LittleEndian(destination[4..], 1); // object reference count
        BinaryPrimitives.WriteUInt32LittleEndian(destination[8..], (uint)(Size - PrefixSize));
        int p = PrefixSize;
        foreach (var (type, flags, body) in _messages)
        {
            int padded = H5Messages.Pad8(body.Length);
            BinaryPrimitives.WriteUInt16LittleEndian(destination[p..], (ushort)type);
            BinaryPrimitives.WriteUInt16LittleEndian(destination[(p + 2)..], (ushort)padded);
            destination[p + 4] = (byte)flags;
            body.CopyTo(destination[(p + MessageHeaderSize)..]);
            p += MessageHeaderSize + padded;
        }
    }
}
