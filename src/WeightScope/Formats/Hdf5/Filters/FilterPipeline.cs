using WeightScope.IO;

namespace WeightScope.Formats.Hdf5.Filters;

/// <summary>One filter of a pipeline: its id and client data (e.g. shuffle's element size, deflate's level).</summary>
internal sealed record Filter(int Id, string? Name, uint[] ClientData);

/// <summary>The filter pipeline message (specification §IV.A.2.l), versions 1 and 2.</summary>
internal static class FilterPipeline
{
    public const int Deflate = 1;
    public const int Shuffle = 2;
    public const int Fletcher32 = 3;
    public const int Szip = 4;
    public const int NBit = 5;
    public const int ScaleOffset = 6;
    public const int Bzip2 = 307;
    public const int Lzf = 32000; // h5py's registered LZF filter
    public const int Blosc = 32001;
    public const int Lz4 = 32004;
    public const int BitShuffle = 32008;
    public const int Zstd = 32015;
    private const int FirstCustomId = 256;

    /// <summary>Parses the message body.</summary>
    public static List<Filter> Read(ref SpanReader r, string path)
    {
        long at = r.Offset;
        int version = r.ReadByte();
        int count = r.ReadByte();
        if (version == 1) r.ReadBytes(6);
        else if (version != 2) throw Hdf5Errors.Unsupported($"filter pipeline message version {version}", at, path);
        var filters = new List<Filter>();
        for (int i = 0; i < count; i++)
        {
            int id = r.ReadUInt16();
            int nameLength = version == 1 || id >= FirstCustomId ? r.ReadUInt16() : 0;
            r.ReadUInt16(); // flags (optional filter)
            int values = r.ReadUInt16();
            string? name = null;
            if (nameLength > 0)
            {
                var raw = r.ReadBytes(version == 1 ? (nameLength + 7) / 8 * 8 : nameLength);
                int nul = raw.IndexOf((byte)0);
                name = System.Text.Encoding.ASCII.GetString(nul >= 0 ? raw[..nul] : raw);
            }
            var data = new uint[values];
            for (int j = 0; j < values; j++) data[j] = r.ReadUInt32();
            if (version == 1 && values % 2 == 1) r.ReadBytes(4);
            filters.Add(new Filter(id, name, data));
        }
        return filters;
    }
}
