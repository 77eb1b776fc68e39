using WeightScope.Formats.Hdf5;
using WeightScope.Formats.Hdf5.Groups;
using WeightScope.Formats.Hdf5.ObjectHeader;
using WeightScope.IO;

namespace WeightScope.Tests.Formats.Hdf5;

/// <summary>
/// Finds structures in an h5py-written file by parsing it (superblock → object headers → links), so crafted tests patch
/// bytes at offsets the file itself names rather than at constants copied from a hex dump. Addresses it returns are
/// absolute file offsets unless named otherwise.
/// </summary>
internal sealed class Hdf5Navigator : IDisposable
{
    private readonly MappedFile _mapped;

    public Hdf5Navigator(byte[] bytes)
    {
        _mapped = MappedFile.FromArray(bytes);
        var sb = WeightScope.Formats.Hdf5.Superblock.Superblock.Read(_mapped);
        File = new Hdf5File(_mapped, sb.BaseAddress, sb.OffsetSize, sb.LengthSize, ReaderLimits.Default) { SuperblockExtension = sb.ExtensionAddress };
        Root = sb.RootObjectHeader;
    }

    public Hdf5File File { get; }

    /// <summary>Stored address of the root group's object header.</summary>
    public ulong Root { get; }

    /// <summary>Absolute file offset of a stored address.</summary>
    public long Abs(ulong address) => File.BaseAddress + (long)address;

    /// <summary>Stored address of the object header at <paramref name="path"/> ("" for the root), following hard links.</summary>
    public ulong Address(string path)
    {
        ulong address = Root;
        string current = "";
        foreach (var name in path.Split('/', StringSplitOptions.RemoveEmptyEntries))
        {
            var link = Links(Hdf5Object.Read(File, address, current), current).Single(l => l.Name == name);
            address = link.Address;
            current = current.Length == 0 ? name : current + "/" + name;
        }
        return address;
    }

    /// <summary>The parsed object at <paramref name="path"/>.</summary>
    public Hdf5Object Object(string path) => Hdf5Object.Read(File, Address(path), path);

    /// <summary>The header messages of the object at <paramref name="path"/> (absolute body offsets and lengths).</summary>
    public List<HeaderMessage> Messages(string path) => ObjectHeaderReader.Read(File, Address(path), path);

    /// <summary>The first header message of type <paramref name="type"/>.</summary>
    public HeaderMessage Message(string path, int type) => Messages(path).First(m => m.Type == type);

    private List<Link> Links(Hdf5Object obj, string path) =>
        obj.SymbolTable is { } st ? SymbolTableNode.ReadGroup(File, st.BTree, st.Heap, st.At, path)
        : obj.DenseLinks is { } dl ? DenseStorage.Links(File, dl.Heap, dl.NameIndex, dl.At, path)
        : obj.Links;

    public void Dispose() => _mapped.Dispose();
}
