using TorchSharp.Modules;
using static TorchSharp.torch;

namespace Tutorials;

// The tutorials' networks, field for field: RegisterComponents() names each submodule after its field, so
// state_dict() keys are the Python ones (fc1.weight, depth_conv.bias, gru.weight_ih_l0…).

/// <summary>First tutorial: <c>SimpleNN(10, 5, 1)</c>, fc1 (Linear), ReLU, fc2 (Linear).</summary>
internal sealed class SimpleNN : nn.Module<Tensor, Tensor>
{
    private readonly Linear fc1;
    private readonly ReLU relu;
    private readonly Linear fc2;

    public SimpleNN(int inputSize, int hiddenSize, int outputSize) : base(nameof(SimpleNN))
    {
        fc1 = nn.Linear(inputSize, hiddenSize);
        relu = nn.ReLU();
        fc2 = nn.Linear(hiddenSize, outputSize);
        RegisterComponents();
    }

    public override Tensor forward(Tensor x) => fc2.forward(relu.forward(fc1.forward(x)));
}

/// <summary>"Load and extract" and the second tutorial: <c>MyModel</c>, fc1 (Linear 10→50), fc2 (Linear 50→1).</summary>
internal sealed class MyModel : nn.Module<Tensor, Tensor>
{
    public readonly Linear fc1;
    public readonly Linear fc2;

    public MyModel() : base(nameof(MyModel))
    {
        fc1 = nn.Linear(10, 50);
        fc2 = nn.Linear(50, 1);
        RegisterComponents();
    }

    public override Tensor forward(Tensor x) => fc2.forward(nn.functional.relu(fc1.forward(x)));
}

/// <summary>Third tutorial: <c>PolynomialRegression</c>, two Linear layers and a Conv2d.</summary>
internal sealed class PolynomialRegression : nn.Module<Tensor, Tensor>
{
    private readonly Linear linear1;
    private readonly Linear linear2;
    private readonly Conv2d conv;

    public PolynomialRegression() : base(nameof(PolynomialRegression))
    {
        linear1 = nn.Linear(3, 4);
        linear2 = nn.Linear(4, 1);
        conv = nn.Conv2d(1, 2, kernel_size: 3);
        RegisterComponents();
    }

    public override Tensor forward(Tensor x) => linear2.forward(nn.functional.relu(linear1.forward(x)));
}

/// <summary>Fourth tutorial: <c>Net</c>, three Linear layers and a depthwise-separable convolution.</summary>
internal sealed class Net : nn.Module<Tensor, Tensor>
{
    private readonly Linear fc1;
    private readonly Linear fc2;
    private readonly Linear fc3;
    private readonly Conv2d depth_conv;
    private readonly Conv2d point_conv;

    public Net() : base(nameof(Net))
    {
        fc1 = nn.Linear(96, 96);
        fc2 = nn.Linear(64, 64);
        fc3 = nn.Linear(64, 12);
        depth_conv = nn.Conv2d(4, 4, kernel_size: 3, padding: 1, groups: 4);   // one 3x3 filter per channel
        point_conv = nn.Conv2d(4, 8, kernel_size: 1);
        RegisterComponents();
    }

    public override Tensor forward(Tensor x) => point_conv.forward(depth_conv.forward(x));
}

/// <summary>Fourth tutorial's recurrent part: a GRU (4 inputs, 3 hidden units) under the name <c>gru</c>.</summary>
internal sealed class GruNet : nn.Module<Tensor, Tensor>
{
    private readonly GRU gru;

    public GruNet() : base(nameof(GruNet))
    {
        gru = nn.GRU(4, 3);
        RegisterComponents();
    }

    public override Tensor forward(Tensor x) => gru.forward(x).Item1;
}

/// <summary>The torch twin of a Keras <c>GRU(4, reset_after=True)</c> → <c>Dense(2)</c> Sequential over 3 features.</summary>
internal sealed class KerasGru : nn.Module<Tensor, Tensor>
{
    private readonly GRU gru;
    private readonly Linear dense;

    public KerasGru() : base(nameof(KerasGru))
    {
        gru = nn.GRU(3, 4, batchFirst: true);    // Keras takes (batch, time, features)
        dense = nn.Linear(4, 2);
        RegisterComponents();
    }

    // Keras's return_sequences=False: the Dense layer sees the last step's output.
    public override Tensor forward(Tensor x) => dense.forward(gru.forward(x).Item1.select(1, -1));
}

/// <summary>
/// The torch twin of a Keras <c>LSTM(3)</c> → <c>Dense(1)</c> Sequential over 2 features. Keras's one LSTM bias becomes
/// bias_ih and bias_hh is zero (torch adds the two), so torch has 12 parameters more than Keras counts.
/// </summary>
internal sealed class KerasLstm : nn.Module<Tensor, Tensor>
{
    private readonly LSTM lstm;
    private readonly Linear dense;

    public KerasLstm() : base(nameof(KerasLstm))
    {
        lstm = nn.LSTM(2, 3, batchFirst: true);
        dense = nn.Linear(3, 1);
        RegisterComponents();
    }

    public override Tensor forward(Tensor x) => dense.forward(lstm.forward(x).Item1.select(1, -1));
}

/// <summary>The torch twin of hls4ml's keras_1layer.h5: Dense(32, relu) → Dense(1, sigmoid) over 10 inputs.</summary>
internal sealed class KerasDense : nn.Module<Tensor, Tensor>
{
    private readonly Linear fc1;
    private readonly Linear fc2;

    public KerasDense() : base(nameof(KerasDense))
    {
        fc1 = nn.Linear(10, 32);
        fc2 = nn.Linear(32, 1);
        RegisterComponents();
    }

    public override Tensor forward(Tensor x) => nn.functional.sigmoid(fc2.forward(nn.functional.relu(fc1.forward(x))));
}

/// <summary>
/// The torch twin of hls4ml's keras_3layer_batch_norm.h5: (Dense, BatchNormalization(epsilon=1e-6), relu) three times,
/// then Dense(5), BatchNormalization and softmax, over 16 inputs. Keras's moving statistics are its non-trainable
/// weights; here they are BatchNorm1d's running_mean and running_var buffers.
/// </summary>
internal sealed class KerasBatchNorm : nn.Module<Tensor, Tensor>
{
    // Declared in the Python class's order: RegisterComponents() registers fields in declaration order, and that is
    // the state_dict() order (fc1, bn1, fc2, bn2…).
    private readonly Linear fc1;
    private readonly BatchNorm1d bn1;
    private readonly Linear fc2;
    private readonly BatchNorm1d bn2;
    private readonly Linear fc3;
    private readonly BatchNorm1d bn3;
    private readonly Linear fc4;
    private readonly BatchNorm1d bn4;

    public KerasBatchNorm() : base(nameof(KerasBatchNorm))
    {
        fc1 = nn.Linear(16, 64);
        bn1 = nn.BatchNorm1d(64, eps: 1e-6);
        fc2 = nn.Linear(64, 32);
        bn2 = nn.BatchNorm1d(32, eps: 1e-6);
        fc3 = nn.Linear(32, 32);
        bn3 = nn.BatchNorm1d(32, eps: 1e-6);
        fc4 = nn.Linear(32, 5);
        bn4 = nn.BatchNorm1d(5, eps: 1e-6);
        RegisterComponents();
    }

    public override Tensor forward(Tensor x)
    {
        x = nn.functional.relu(bn1.forward(fc1.forward(x)));
        x = nn.functional.relu(bn2.forward(fc2.forward(x)));
        x = nn.functional.relu(bn3.forward(fc3.forward(x)));
        return nn.functional.softmax(bn4.forward(fc4.forward(x)), 1);
    }
}
