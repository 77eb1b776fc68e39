// Reads every tensor of a file into a fresh array, as h5py's `ds[()]` does for every dataset, and prints a checksum so
// nothing is optimised away. Usage: ReadAll FILE
using WeightScope;
using WeightScope.Tensors;

using var model = ModelFile.Open(args[0]);
double checksum = 0;
long bytes = 0;
foreach (var t in model.Tensors)
{
    if (t.DType == DType.Float32)
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
