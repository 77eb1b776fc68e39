using WeightScope.Formats.PyTorch.Pickle;
using WeightScope.IO;

namespace WeightScope.Formats.PyTorch;

/// <summary>
/// Every global the pickles of a PyTorch file reference or call, without mapping anything: what a security scan
/// classifies. Zip archives (torch.save, TorchScript): every <c>*.pkl</c> member; legacy files: the pickles before the
/// storage section. Storages are never touched (persistent ids stay inert).
/// </summary>
internal static class PyTorchPickleGlobals
{
    /// <summary>The references and calls in pickle order, member by member.</summary>
    /// <exception cref="ModelFormatException">A pickle is corrupt (the references found before it are lost).</exception>
    public static List<GlobalReference> Read(MappedFile file, ReaderLimits limits)
    {
        var resolver = TorchGlobals.CreateResolver().WithoutInterpretation();
        var found = new List<GlobalReference>();
        if (ZipIndex.LooksLikeZip(file.Span(0, (int)Math.Min(8, file.Length))))
        {
            var zip = ZipIndex.Read(file, limits);
            foreach (var e in zip.Entries.Where(e => e.Name.EndsWith(".pkl", StringComparison.Ordinal)))
            {
                var u = new Unpickler(resolver, limits, new PickleErrors("pickle", e.Name));
                u.Load(zip.ReadAll(e, limits.MaxHeaderBytes), 0, out _);
                found.AddRange(u.Globals);
            }
            return found;
        }
        // Legacy: magic, protocol, sys_info, the object, the storage keys — five pickles back to back.
        long position = 0;
        for (int i = 0; i < 5 && position < file.Length; i++)
        {
            var u = new Unpickler(resolver, limits, new PickleErrors("pickle", null));
            u.Load(file.Span(position, (int)Math.Min(file.Length - position, int.MaxValue)), position, out int used);
            position += used;
            found.AddRange(u.Globals);
        }
        return found;
    }
}
