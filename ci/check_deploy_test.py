#!/usr/bin/python3
"""Tests of ci/check_deploy.py: that it passes this repository's deployment files and fails each
kind of mistake planted in a copy of them.

Each test copies the files the check reads (Makefile, Dockerfile, .dockerignore, packaging/,
deploy/, ci/debian-packages.txt) to a temporary directory, plants one mistake and runs the check
on it as `make test` runs it (a separate process, its exit status and its messages), against
the built binary given as the first argument:

  /usr/bin/python3 ci/check_deploy_test.py build/sluice
"""

import os
import shutil
import subprocess
import sys
import tempfile
import unittest

HERE = os.path.dirname(os.path.abspath(__file__))
SCRIPT = os.path.join(HERE, "check_deploy.py")
REPOSITORY = os.path.dirname(HERE)
COPIED = ["Makefile", "Dockerfile", ".dockerignore", "packaging", "deploy", "ci/debian-packages.txt"]
BINARY = None  # set from the command line


class CheckDeployTest(unittest.TestCase):
    def setUp(self):
        self.root = tempfile.mkdtemp(prefix="check_deploy_test.")
        for name in COPIED:
            source, destination = os.path.join(REPOSITORY, name), os.path.join(self.root, name)
            if os.path.isdir(source):
                shutil.copytree(source, destination)
            else:
                os.makedirs(os.path.dirname(destination), exist_ok=True)
                shutil.copy(source, destination)

    def tearDown(self):
        shutil.rmtree(self.root)

    def plant(self, path, old, new):
        full = os.path.join(self.root, path)
        with open(full, encoding="utf-8") as file:
            text = file.read()
        self.assertIn(old, text, f"{path} no longer holds {old!r}: update the test")
        with open(full, "w", encoding="utf-8") as file:
            file.write(text.replace(old, new, 1))

    def run_check(self):
        result = subprocess.run([sys.executable, SCRIPT, BINARY, "--root", self.root],
                                capture_output=True, text=True, check=False)
        return result.returncode, result.stdout + result.stderr

    def assert_fails_with(self, message):
        status, output = self.run_check()
        self.assertEqual(status, 1, output)
        self.assertIn(message, output)

    def test_the_repository_passes(self):
        status, output = self.run_check()
        self.assertEqual(status, 0, output)
        self.assertIn("0 failed", output)

    def test_an_unknown_flag_in_the_statefulset_fails(self):
        self.plant("deploy/kubernetes/statefulset.yaml", "- --metrics-port\n", "- --metrics-prot\n")
        self.assert_fails_with("'--metrics-prot' is not a flag of 'sluice run --help'")

    def test_an_unknown_command_in_the_unit_fails(self):
        self.plant("packaging/systemd/sluice.service", "sluice serve --config", "sluice server --config")
        self.assert_fails_with("'server' is not a command of 'sluice --help'")

    def test_a_flag_value_the_binary_refuses_fails(self):
        self.plant("deploy/kubernetes/statefulset.yaml", "- 10s\n", "- ten seconds\n")
        self.assert_fails_with("the container's command line, run on a small job, exited 2")

    def test_a_prometheus_port_other_than_the_metrics_port_fails(self):
        self.plant("deploy/kubernetes/statefulset.yaml", 'prometheus.io/port: "9249"', 'prometheus.io/port: "9250"')
        self.assert_fails_with("prometheus.io/port 9250 is not --metrics-port 9249")

    def test_a_probe_on_another_path_fails(self):
        self.plant("deploy/kubernetes/statefulset.yaml", "path: /healthz", "path: /health")
        self.assert_fails_with("livenessProbe fetches /health, not /healthz")

    def test_a_service_targeting_another_port_fails(self):
        self.plant("deploy/kubernetes/service.yaml", "targetPort: metrics", "targetPort: 9090")
        self.assert_fails_with("Service sluice targets [9090], not 9249")

    def test_a_job_file_outside_the_configmap_mount_fails(self):
        self.plant("deploy/kubernetes/statefulset.yaml", "mountPath: /etc/sluice/job\n", "mountPath: /etc/sluice/jobs\n")
        self.assert_fails_with("the job file /etc/sluice/job/job.sql is not a key of a ConfigMap mounted there")

    def test_checkpoints_off_the_claimed_volume_fail(self):
        self.plant("deploy/kubernetes/statefulset.yaml", "- /var/lib/sluice/checkpoints", "- /tmp/checkpoints")
        self.assert_fails_with("--checkpoint-dir /tmp/checkpoints is not on a writable volumeClaimTemplate's volume")

    def test_invalid_sql_in_the_configmap_fails(self):
        self.plant("deploy/kubernetes/configmap.yaml", "SUM(quantity)", "SUM(quantty)")
        self.assert_fails_with("sluice validate of the ConfigMap's SQL")

    def test_a_config_path_make_install_does_not_install_fails(self):
        self.plant("packaging/systemd/sluice.service", "--config /etc/sluice/sluice.yaml", "--config /etc/sluice/server.yaml")
        self.assert_fails_with("--config /etc/sluice/server.yaml: make install installs no such file")

    def test_a_state_directory_other_than_data_dir_fails(self):
        self.plant("packaging/systemd/sluice.service", "StateDirectory=sluice\n", "StateDirectory=sluice-state\n")
        self.assert_fails_with("data_dir /var/lib/sluice is not the StateDirectory /var/lib/sluice-state")

    def test_an_unknown_config_key_fails(self):
        self.plant("packaging/docker/sluice.yaml", "port: 8081", "prot: 8081")
        self.assert_fails_with("'prot' is not a key of 'sluice serve --help'")

    def test_an_exposed_port_other_than_the_configs_fails(self):
        self.plant("Dockerfile", "EXPOSE 8081", "EXPOSE 8080")
        self.assert_fails_with("EXPOSE [8080] is not the config's port 8081")

    def test_a_healthcheck_on_another_port_fails(self):
        self.plant("Dockerfile", "127.0.0.1:8081/healthz", "127.0.0.1:8080/healthz")
        self.assert_fails_with("HEALTHCHECK does not fetch /healthz on port 8081")

    def test_a_build_package_not_in_the_list_fails(self):
        self.plant("Dockerfile", "build-essential cmake", "build-essential cmake meson")
        self.assert_fails_with("the build stage installs meson, not in ci/debian-packages.txt")

    def test_a_runtime_library_the_image_lacks_fails(self):
        if shutil.which("ldd") is None or shutil.which("dpkg-query") is None:
            self.skipTest("no ldd or dpkg-query")
        self.plant("Dockerfile", "librdkafka1 ", "")
        self.assert_fails_with("the binary loads a library of librdkafka1, which the runtime stage does not install")


if __name__ == "__main__":
    if len(sys.argv) < 2 or sys.argv[1].startswith("-"):
        sys.exit("usage: check_deploy_test.py SLUICE_BINARY [unittest options]")
    BINARY = os.path.abspath(sys.argv.pop(1))
    unittest.main()
