"""The sort's message for a freed graph, shared by fastgrad._cy.toposort and its twin
fastgrad._py.toposort."""
from fastgrad._shared.opcodes import OP_NAMES


def freed_graph_error(node):
    data = node.data
    return RuntimeError(
        f"backward: the graph through {OP_NAMES.get(node._op, node._op)} "
        f"({data.dtype} {tuple(data.shape)}) was freed by an earlier backward(); call "
        f"backward(retain_graph=True) the first time if you need to go through it again")
