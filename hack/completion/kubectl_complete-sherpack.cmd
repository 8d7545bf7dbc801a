@echo off
rem kubectl runs this to complete `kubectl sherpack ...` on Windows (see kubectl_complete-sherpack).
kubectl-sherpack.exe __complete %*
