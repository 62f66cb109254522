"""The benchmark workloads (W1-W7, M1) and every system's implementation of them.

One module per workload; in it, each system is one small builder function registered with
`registry.register`. `registry.cases_for(workload)` imports the workload modules on first use.
"""
