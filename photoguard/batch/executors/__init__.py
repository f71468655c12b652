"""What runs a batch's files: worker processes on this computer (``local``), or an executor
photoguard does not own (``futures``), such as a Dask cluster's client (``cluster``)."""
