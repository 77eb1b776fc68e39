using System.Buffers.Binary;
using System.Text;

namespace WeightScope.Tests.Formats.SafeTensors;

/// <summary>Lays out safetensors bytes by the format's definition (u64 header length, JSON, data) for crafted-input tests.</summary>
internal static class SafeTensorsBuilder
{
    /// <summary>A file with the given raw JSON header and data section, padded like the reference writer (to 8 bytes).</summary>
    public static byte[] Build(string headerJson, byte[] data, bool pad = true)
    {
        var json = Encoding.UTF8.GetBytes(headerJson);
        int padding = pad ? (8 - json.Length % 8) % 8 : 0;
        var file = new byte[8 + json.Length + padding + data.Length];
        BinaryPrimitives.WriteUInt64LittleEndian(file, (ulong)(json.Length + padding));
        json.CopyTo(file, 8);
        file.AsSpan(8 + json.Length, padding).Fill((byte)' ');
        data.CopyTo(file, 8 + json.Length + padding);
        return file;
    }

    public static string Write(string dir, string name, byte[] bytes)
    {
        Directory.CreateDirectory(dir);
        var p = Path.Combine(dir, name);
        File.WriteAllBytes(p, bytes);
        return p;
    }
}
