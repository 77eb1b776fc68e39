// Reads every tensor of a file, as h5py's `ds[()]` does for every dataset, and prints a checksum so nothing is optimised
// away. Usage: ReadAll FILE [--into-buffer]
//   default        ToArray<float>() (ReadBytes() for other dtypes): a fresh array per tensor, like ds[()]
//   --into-buffer  CopyBytesTo() into one buffer reused for every tensor, like ds.read_direct(buffer)
using System.Runtime.InteropServices;
using WeightScope;
using WeightScope.Tensors;

bool intoBuffer = args.Length > 1 && args[1] == "--into-buffer";
using var model = ModelFile.Open(args[0]);
byte[] buffer = intoBuffer ? new byte[model.Tensors.Max(t => t.ByteSize)] : [];
double checksum = 0;
long bytes = 0;
foreach (var t in model.Tensors)
{
    if (intoBuffer)
    {
        var span = buffer.AsSpan(0, (int)t.ByteSize);
        t.CopyBytesTo(span);
        if (t.DType == DType.Float32 && span.Length > 0) checksum += MemoryMarshal.Cast<byte, float>(span)[0] + MemoryMarshal.Cast<byte, float>(span)[^1];
        else if (span.Length > 0) checksum += span[0];
    }
    else if (t.DType == DType.Float32)
    {
        var values = t.ToArray<float>();
        if (values.Length > 0) checksum += values[0] + values[^1];
    }
    else
    {
        var raw = t.ReadBytes();
        if (raw.Length > 0) checksum += raw[0];
    }
    bytes += t.ByteSize;
}
Console.WriteLine($"{model.Tensors.Count} tensors, {bytes} bytes, checksum {checksum}");
