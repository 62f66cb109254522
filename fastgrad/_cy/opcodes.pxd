# The op codes of the array engine: one integer per primitive, the only hand-written list. The
# compiled kernels switch on them and index their VJP table with them; fastgrad/_shared/opcodes.py
# reads this enum (so keep one member per line), and the op table (fastgrad/ops/) names each
# code's entry (tests/test_optable.py checks it). New ops go before N_OPS.
cpdef enum OpCode:
    OP_LEAF = 0        # a leaf: user data or a constant; nothing to propagate
    # elementwise, two tensors: prev = (a, b)
    OP_ADD
    OP_SUB
    OP_MUL
    OP_DIV
    OP_POW
    OP_MAXIMUM
    OP_MINIMUM
    # elementwise, a tensor and a Python scalar c kept in ctx: prev = (a,)
    OP_ADD_S           # a + c
    OP_MUL_S           # a * c
    OP_DIV_S           # a / c
    OP_RSUB_S          # c - a
    OP_RDIV_S          # c / a
    OP_POW_S           # a ** c
    OP_RPOW_S          # c ** a
    # elementwise, one tensor: prev = (a,)
    OP_NEG
    OP_EXP
    OP_LOG
    OP_TANH
    OP_RELU
    OP_SIGMOID
    OP_SQRT
    OP_ABS
    OP_LOG1P
    OP_SIN
    OP_COS
    OP_CLIP            # ctx = (lo, hi)
    OP_WHERE           # prev = (a, b), ctx = condition
    # reductions and normalisations: ctx = (axis, keepdims) or axis
    OP_SUM
    OP_MEAN
    OP_MAX
    OP_MIN
    OP_LOGSUMEXP
    OP_SOFTMAX
    OP_LOG_SOFTMAX
    # shape: ctx holds what inverts them
    OP_RESHAPE
    OP_TRANSPOSE
    OP_GETITEM
    OP_CONCAT
    OP_STACK
    OP_BROADCAST
    OP_ASTYPE
    # linear algebra
    OP_MATMUL
    # a primitive whose VJP is a Python function: ctx = the VJP
    OP_CUSTOM
    # fused dense layer: prev = (x, W) or (x, W, b), ctx = the activation's code
    OP_DENSE
    # fused losses: prev = (input,) or (input, target); ctx = (what the VJP needs, reduction)
    OP_SOFTMAX_CE
    OP_BCE_LOGITS
    OP_MSE
    OP_HINGE
    N_OPS              # not an op: the size of the VJP table
