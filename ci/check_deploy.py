#!/usr/bin/python3
"""Checks the deployment files against the binary they deploy: no container engine, systemd or
Kubernetes runs here, so this reads them and asks the built `sluice` instead.

  /usr/bin/python3 ci/check_deploy.py build/sluice [--root DIR]

It reads the systemd unit (packaging/systemd/), the configurations (packaging/*.yaml,
packaging/docker/), the Dockerfile and .dockerignore, and every manifest of deploy/kubernetes/,
and checks:

- every `sluice` command line (the unit's ExecStart, the image's ENTRYPOINT + CMD, the
  StatefulSet's command + args, with Kubernetes' $(VAR) expanded from the container's env) names a
  command of `sluice --help` and only flags of that command's `--help`, each value flag with a
  value; a StatefulSet's `sluice run` line is also run for real on a small job (its paths
  and port swapped for temporary ones), so the binary accepts every flag and value;
- every configuration key is one `sluice serve --help` lists;
- ports: the unit's config, the image's config, EXPOSE and HEALTHCHECK agree; the StatefulSet's
  --metrics-port, containerPort, probes, prometheus.io/port and the Service's targetPort agree;
- paths: `make install` (run for real into a temporary DESTDIR, with this binary) puts the binary
  and the configuration where the unit's ExecStart and --config say, and data_dir is the unit's
  StateDirectory and ReadWritePaths; the image copies its config and binary to the paths its
  command uses, and its VOLUME is data_dir; the job file of the StatefulSet's command is a key of
  a mounted ConfigMap, the checkpoint directory is on a volumeClaimTemplate's volume, and the
  ConfigMap's SQL passes `sluice validate`;
- probes and HEALTHCHECK hit /healthz on the served port; a non-loopback listen address has a
  token (the binary refuses to start otherwise);
- the image's build stage installs only packages of ci/debian-packages.txt, and its runtime stage
  every package whose shared libraries the binary loads (per ldd and dpkg, when present).

Exit status 0 when every check passes, 1 otherwise, with one line per failure. Python 3 standard
library and Debian's python3-yaml.
"""

import argparse
import json
import os
import re
import shlex
import shutil
import subprocess
import sys
import tempfile

import yaml

REPOSITORY = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
LOOPBACK = ("127.", "::1", "localhost")


class Checker:
    def __init__(self, root, binary):
        self.root = root
        self.binary = os.path.abspath(binary)
        self.errors = []
        self.passed = 0
        self.commands, self.flags, self.value_flags, self.config_keys = self.read_help()

    # --- reporting ---------------------------------------------------------------------------

    def check(self, condition, where, message):
        if condition:
            self.passed += 1
        else:
            self.errors.append(f"{where}: {message}")
        return condition

    def path(self, relative):
        return os.path.join(self.root, relative)

    def read(self, relative):
        with open(self.path(relative), encoding="utf-8") as file:
            return file.read()

    # --- what the binary offers --------------------------------------------------------------

    def help_of(self, *command):
        result = subprocess.run([self.binary, *command, "--help"], capture_output=True, text=True, check=False)
        if result.returncode != 0:
            sys.exit(f"check_deploy: '{self.binary} {' '.join(command)} --help' exited {result.returncode}")
        return result.stdout + result.stderr

    def read_help(self):
        main = self.help_of()
        commands_block = main.split("commands:", 1)[1].split("\n\n", 1)[0]
        commands = set(re.findall(r"^  ([a-z][a-z-]*)", commands_block, re.MULTILINE))
        flags, value_flags = {}, {}
        for command in commands:
            text = self.help_of(command)
            flags[command] = set(re.findall(r"(--[a-z][a-z0-9-]*)", text))
            # A value flag is followed by its placeholder: --checkpoint-dir DIR, --progress a|b.
            value_flags[command] = set(
                re.findall(r"(--[a-z][a-z0-9-]*)[ =](?:[A-Z][A-Z_=.]*\b|[a-z0-9-]+(?:\|[a-z0-9-]+)+)", text)
            )
        serve = self.help_of("serve")
        keys_block = serve.split("FILE is YAML", 1)[1].split("\n\n", 1)[0]
        config_keys = set(re.findall(r"^  ([a-z_]+):", keys_block, re.MULTILINE))
        return commands, flags, value_flags, config_keys

    # --- command lines -----------------------------------------------------------------------

    def parse_command_line(self, where, argv):
        """Checks a sluice command line; returns (command, positionals, {flag: [values]})."""
        if not self.check(bool(argv) and os.path.basename(argv[0]) == "sluice", where,
                          f"runs {argv[:1]}, not sluice"):
            return None, [], {}
        if not self.check(len(argv) > 1 and argv[1] in self.commands, where,
                          f"'{argv[1] if len(argv) > 1 else ''}' is not a command of 'sluice --help' "
                          f"({', '.join(sorted(self.commands))})"):
            return None, [], {}
        command, positionals, options = argv[1], [], {}
        index = 2
        while index < len(argv):
            token = argv[index]
            index += 1
            if not token.startswith("--"):
                positionals.append(token)
                continue
            flag, has_value, value = token.partition("=")
            if not self.check(flag in self.flags[command], where,
                              f"'{flag}' is not a flag of 'sluice {command} --help'"):
                continue
            if flag in self.value_flags[command] and not has_value:
                if not self.check(index < len(argv) and not argv[index].startswith("--"), where,
                                  f"'{flag}' needs a value"):
                    continue
                value = argv[index]
                index += 1
            options.setdefault(flag, []).append(value)
        return command, positionals, options

    def check_config(self, where, relative, token_in_environment):
        """Checks a server configuration (a path in the repository, or an absolute one); returns
        it and its port. `token_in_environment`: SLUICE_TOKEN is supplied to the server."""
        with open(self.path(relative), encoding="utf-8") as file:
            config = yaml.safe_load(file)
        self.check(isinstance(config, dict), where, f"{relative} is not one YAML mapping")
        for key in config:
            self.check(key in self.config_keys, where,
                       f"{relative}: '{key}' is not a key of 'sluice serve --help' ({', '.join(sorted(self.config_keys))})")
        self.check("data_dir" in config, where, f"{relative}: no data_dir (required)")
        port = config.get("port", 8081)
        address = config.get("address", "127.0.0.1")
        if not str(address).startswith(LOOPBACK):
            self.check(bool(config.get("token")) or config.get("allow_unauthenticated") is True
                       or token_in_environment,
                       where, f"{relative}: listens on {address} without a token or SLUICE_TOKEN")
        return config, port

    # --- make install + systemd --------------------------------------------------------------

    def staged_install(self, stage, prefix):
        """Runs the Makefile's install recipe into `stage` with this binary (portable not rebuilt)."""
        build_dir = tempfile.mkdtemp(prefix="check_deploy_build.")
        try:
            shutil.copy(self.binary, os.path.join(build_dir, "sluice"))
            result = subprocess.run(
                ["make", "-s", "-C", self.root, "-o", "portable", "install", f"DESTDIR={stage}",
                 f"PREFIX={prefix}", f"PORTABLE_BUILD_DIR={build_dir}"],
                capture_output=True, text=True, check=False,
                # Not the flags and variables of a calling make (make test PREFIX=...).
                env={key: value for key, value in os.environ.items()
                     if key not in ("MAKEFLAGS", "MFLAGS", "MAKELEVEL", "MAKEOVERRIDES")})
        finally:
            shutil.rmtree(build_dir)
        self.check(result.returncode == 0, "Makefile", f"make install failed: {result.stdout}{result.stderr}")

    def check_systemd(self, stage):
        where = "packaging/systemd/sluice.service"
        unit_text = self.read(where)
        self.staged_install(stage, "/usr/local")
        installed_unit = os.path.join(stage, "usr/local/lib/systemd/system/sluice.service")
        if not self.check(os.path.isfile(installed_unit), "Makefile",
                          "make install did not install lib/systemd/system/sluice.service"):
            return
        with open(installed_unit, encoding="utf-8") as file:
            installed_text = file.read()
        help_file = os.path.join(stage, "usr/local/share/doc/sluice/sluice-help.txt")
        self.check(os.path.isfile(help_file) and "usage: sluice serve" in open(help_file, encoding="utf-8").read(),
                   "Makefile", "make install did not install share/doc/sluice/sluice-help.txt with every command's help")
        for name, text in ((where, unit_text), ("installed " + where, installed_text)):
            settings = {}
            for line in text.splitlines():
                if "=" in line and not line.lstrip().startswith(("#", ";", "[")):
                    key, _, value = line.partition("=")
                    settings.setdefault(key.strip(), []).append(value.strip())
            exec_start = shlex.split(settings.get("ExecStart", [""])[0])
            command, _, options = self.parse_command_line(name, exec_start)
            if command != "serve":
                self.check(False, name, "ExecStart does not run 'sluice serve'")
                continue
            self.check(os.path.isfile(stage + exec_start[0]), name,
                       f"ExecStart runs {exec_start[0]}, which make install does not install")
            config_path = options.get("--config", [""])[0]
            installed_config = stage + config_path
            if not self.check(os.path.isfile(installed_config), name,
                              f"--config {config_path}: make install installs no such file"):
                continue
            config, port = self.check_config(name, installed_config, "EnvironmentFile" in settings)
            data_dir = config.get("data_dir", "")
            state = settings.get("StateDirectory", [""])[0]
            self.check(data_dir == "/var/lib/" + state, name,
                       f"data_dir {data_dir} is not the StateDirectory /var/lib/{state}")
            self.check(data_dir in " ".join(settings.get("ReadWritePaths", [])).split(), name,
                       f"data_dir {data_dir} is not in ReadWritePaths (ProtectSystem=strict)")
            for hardening in ("NoNewPrivileges", "ProtectSystem"):
                self.check(hardening in settings, name, f"no {hardening}=")
            self.check("User" in settings or settings.get("DynamicUser") == ["yes"], name,
                       "runs as root: no User= or DynamicUser=")
        self.check("/usr/local/bin/sluice" in unit_text, where,
                   "ExecStart is not /usr/local/bin/sluice (the path make install rewrites to BINDIR)")

    # --- Dockerfile --------------------------------------------------------------------------

    def dockerfile_instructions(self):
        text = re.sub(r"\\\n", " ", self.read("Dockerfile"))
        stages = []
        for line in text.splitlines():
            line = line.strip()
            if not line or line.startswith("#"):
                continue
            keyword, _, rest = line.partition(" ")
            keyword = keyword.upper()
            if keyword == "FROM":
                stages.append([])
            if stages:
                stages[-1].append((keyword, rest.strip()))
        return stages

    @staticmethod
    def exec_form(rest):
        return json.loads(rest) if rest.startswith("[") else shlex.split(rest)

    @staticmethod
    def apt_packages(stage):
        packages = []
        for keyword, rest in stage:
            if keyword == "RUN" and "apt-get install" in rest:
                command = rest.split("apt-get install", 1)[1].split("&&", 1)[0]
                packages += [word for word in command.split() if not word.startswith("-")]
        return packages

    def check_dockerfile(self, stage_dir):
        where = "Dockerfile"
        stages = self.dockerfile_instructions()
        if not self.check(len(stages) >= 2, where, "not a multi-stage build"):
            return
        build, runtime = stages[0], stages[-1]
        self.check(all("bookworm" in rest for keyword, rest in (stage[0] for stage in stages)), where,
                   "a stage not on Debian bookworm")
        listed = {line.strip() for line in self.read("ci/debian-packages.txt").splitlines()
                  if line.strip() and not line.startswith("#")}
        for package in self.apt_packages(build):
            self.check(package in listed, where, f"the build stage installs {package}, not in ci/debian-packages.txt")
        self.check(any(keyword == "RUN" and "make install" in rest for keyword, rest in build), where,
                   "the build stage does not run make install (the portable build)")
        runtime_packages = self.apt_packages(runtime)
        self.check_runtime_libraries(runtime_packages)

        copies = {}  # destination in the image -> source (repository path, or staged path)
        for keyword, rest in runtime:
            if keyword == "COPY":
                words = rest.split()
                from_stage = words[0].startswith("--from=")
                source, destination = words[-2], words[-1]
                copies[destination] = ("stage:" if from_stage else "") + source
        for destination, source in copies.items():
            if source.startswith("stage:/staging"):
                self.check(os.path.exists(stage_dir + source[len("stage:/staging"):]), where,
                           f"COPY {source[6:]}: make install DESTDIR=/staging PREFIX=/usr/local makes no such file")
            elif not source.startswith("stage:"):
                self.check(os.path.exists(self.path(source)), where, f"COPY {source}: no such file")
        entrypoint, cmd = [], []
        for keyword, rest in runtime:
            if keyword == "ENTRYPOINT":
                entrypoint = self.exec_form(rest)
            if keyword == "CMD":
                cmd = self.exec_form(rest)
        argv = entrypoint + cmd
        if not self.check(bool(argv), where, "no ENTRYPOINT or CMD"):
            return
        self.check(argv[0] in copies, where, f"ENTRYPOINT {argv[0]} is not copied into the image")
        command, _, options = self.parse_command_line(where + " ENTRYPOINT + CMD", argv)
        if command != "serve":
            self.check(False, where, "the image's command is not 'sluice serve'")
            return
        config_path = options.get("--config", [""])[0]
        source = copies.get(config_path, "")
        if not self.check(source and not source.startswith("stage:"), where,
                          f"--config {config_path} is not a file COPYed from the repository"):
            return
        # The server refuses a non-loopback address without a token: the image says to pass one.
        config, port = self.check_config(where, source, "-e SLUICE_TOKEN=" in self.read("Dockerfile"))
        exposed = [int(port_word.split("/")[0]) for keyword, rest in runtime if keyword == "EXPOSE"
                   for port_word in rest.split()]
        self.check(exposed == [port], where, f"EXPOSE {exposed} is not the config's port {port}")
        self.check(not str(config.get("address", "127.0.0.1")).startswith(LOOPBACK), where,
                   "the image's config listens on loopback: a published port cannot reach it")
        volumes = [volume for keyword, rest in runtime if keyword == "VOLUME" for volume in self.exec_form(rest)]
        self.check(config.get("data_dir") in volumes, where, f"data_dir {config.get('data_dir')} is not a VOLUME {volumes}")
        user = [rest for keyword, rest in runtime if keyword == "USER"]
        self.check(bool(user) and not user[-1].startswith(("root", "0")), where, "the image runs as root")
        healthcheck = [rest for keyword, rest in runtime if keyword == "HEALTHCHECK"]
        if healthcheck:
            url = re.search(r"https?://[^\s'\"]+", healthcheck[0])
            self.check(url is not None and url.group(0).endswith(f":{port}/healthz"), where,
                       f"HEALTHCHECK does not fetch /healthz on port {port}: {healthcheck[0]}")
            self.check("curl" not in healthcheck[0] or "curl" in runtime_packages, where,
                       "HEALTHCHECK uses curl, which the runtime stage does not install")
        ignored = [line.strip() for line in self.read(".dockerignore").splitlines()
                   if line.strip() and not line.startswith("#")]
        for needed in ("CMakeLists.txt", "Makefile", "engine", "packaging", "datagen", "include"):
            self.check(needed not in ignored, ".dockerignore", f"ignores {needed}, which the build needs")

    def check_runtime_libraries(self, runtime_packages):
        """Every package whose library the binary loads is installed by the runtime stage, pulled in
        by one it installs, or in every Debian image (libc6, libgcc-s1, libstdc++6)."""
        if not shutil.which("ldd") or not shutil.which("dpkg-query"):
            print("check_deploy: no ldd or dpkg-query here: the runtime stage's libraries are not checked")
            return
        result = subprocess.run(["ldd", self.binary], capture_output=True, text=True, check=False)
        libraries = re.findall(r"=> (/\S+)", result.stdout)
        paths = sorted({os.path.realpath(library) for library in libraries} | set(libraries))
        # dpkg -S: "package:arch: /path" per owned path (a path no package owns is left out).
        searched = subprocess.run(["dpkg", "-S", *paths], capture_output=True, text=True, check=False).stdout
        owners = {line.split(":")[0] for line in searched.splitlines() if ": /" in line}
        available = {"libc6", "libgcc-s1", "libstdc++6"}
        pending = set(runtime_packages) - available
        while pending:  # the runtime packages and everything they depend on, level by level
            available |= pending
            listed = subprocess.run(["dpkg-query", "-W", "-f=${Depends},${Pre-Depends}\n", *sorted(pending)],
                                    capture_output=True, text=True, check=False).stdout
            pending = set()
            for alternative in listed.replace("\n", ",").split(","):
                name = alternative.split("|")[0].strip().split(" ")[0].split(":")[0]
                if name and name not in available:
                    pending.add(name)
        for owner in sorted(owners):
            self.check(owner in available, "Dockerfile",
                       f"the binary loads a library of {owner}, which the runtime stage does not install")

    # --- Kubernetes --------------------------------------------------------------------------

    def check_kubernetes(self, stage_dir):
        directory = "deploy/kubernetes"
        documents = []
        for name in sorted(os.listdir(self.path(directory))):
            if name.endswith((".yaml", ".yml")):
                for document in yaml.safe_load_all(self.read(os.path.join(directory, name))):
                    if document:
                        documents.append((os.path.join(directory, name), document))
        by_kind = {}
        for source, document in documents:
            by_kind.setdefault(document.get("kind"), []).append((source, document))
        for kind in ("StatefulSet", "ConfigMap", "Service"):
            self.check(kind in by_kind, directory, f"no {kind}")
        config_maps = {document["metadata"]["name"]: document for _, document in by_kind.get("ConfigMap", [])}
        services = {document["metadata"]["name"]: document for _, document in by_kind.get("Service", [])}
        image_user = re.findall(r"^USER (\d+)", self.read("Dockerfile"), re.MULTILINE)
        for where, statefulset in by_kind.get("StatefulSet", []):
            spec = statefulset["spec"]
            template = spec["template"]
            pod = template["spec"]
            labels = template["metadata"].get("labels", {})
            annotations = template["metadata"].get("annotations", {})
            claims = {claim["metadata"]["name"] for claim in spec.get("volumeClaimTemplates", [])}
            self.check(bool(claims), where, "no volumeClaimTemplates: checkpoints would not survive the pod")
            volumes = {volume["name"]: volume for volume in pod.get("volumes", [])}
            service = services.get(spec.get("serviceName"))
            self.check(service is not None, where, f"serviceName {spec.get('serviceName')} is no Service here")
            run_as = pod.get("securityContext", {}).get("runAsUser")
            if image_user:
                self.check(str(run_as) == image_user[-1], where,
                           f"runAsUser {run_as} is not the image's USER {image_user[-1]}")
            for container in pod["containers"]:
                self.check_container(where, container, volumes, claims, config_maps, annotations,
                                     labels, service)

    def check_container(self, where, container, volumes, claims, config_maps, annotations, labels, service):
        where = f"{where} container {container['name']}"
        environment = {variable["name"]: variable for variable in container.get("env", [])}

        def expand(word):
            return re.sub(r"\$\((\w+)\)", lambda match: str(environment.get(match.group(1), {}).get("value", match.group(0))), word)

        argv = [expand(str(word)) for word in container.get("command", []) + container.get("args", [])]
        for word in argv:
            self.check("$(" not in word, where, f"'{word}' refers to a variable the container's env does not set")
        self.check(argv[:1] == ["/usr/local/bin/sluice"], where,
                   f"runs {argv[:1]}, not the image's /usr/local/bin/sluice")
        command, positionals, options = self.parse_command_line(where, argv)
        if command != "run":
            self.check(False, where, "does not run 'sluice run JOB.sql'")
            return
        mounts = container.get("volumeMounts", [])

        def mount_of(path):
            best = None
            for mount in mounts:
                prefix = mount["mountPath"].rstrip("/") + "/"
                if (path + "/").startswith(prefix) and (best is None or len(prefix) > len(best["mountPath"])):
                    best = mount
            return best

        # The job file: a key of a mounted ConfigMap, valid SQL.
        job_sql = None
        if self.check(len(positionals) == 1, where, f"'sluice run' takes one job file, got {positionals}"):
            job_path = positionals[0]
            mount = mount_of(job_path)
            volume = volumes.get(mount["name"], {}) if mount else {}
            config_map = config_maps.get(volume.get("configMap", {}).get("name"))
            key = os.path.relpath(job_path, mount["mountPath"]) if mount else None
            if self.check(config_map is not None and key in config_map.get("data", {}), where,
                          f"the job file {job_path} is not a key of a ConfigMap mounted there"):
                job_sql = (job_path, config_map["data"][key])
        # Checkpoints and the working directory on the claimed volume.
        for flag in ("--checkpoint-dir",):
            for value in options.get(flag, []):
                mount = mount_of(value)
                self.check(mount is not None and mount["name"] in claims and not mount.get("readOnly"), where,
                           f"{flag} {value} is not on a writable volumeClaimTemplate's volume")
        self.check("--checkpoint-dir" in options, where, "no --checkpoint-dir: a restarted pod starts from the beginning")
        working = container.get("workingDir")
        if container.get("securityContext", {}).get("readOnlyRootFilesystem"):
            mount = mount_of(working) if working else None
            self.check(mount is not None and not mount.get("readOnly"), where,
                       f"workingDir {working} is not on a writable volume (the root filesystem is read-only)")
        # The port: --metrics-port, containerPort, probes, annotations, Service.
        if not self.check("--metrics-port" in options, where, "no --metrics-port: no /metrics and no /healthz"):
            return
        port = int(options["--metrics-port"][-1])
        ports = {entry.get("name"): entry["containerPort"] for entry in container.get("ports", [])}
        self.check(port in ports.values(), where, f"--metrics-port {port} is not a containerPort ({list(ports.values())})")

        def resolve(value):
            return ports.get(value, value) if isinstance(value, str) and not value.isdigit() else int(value)

        for probe in ("livenessProbe", "readinessProbe"):
            http = container.get(probe, {}).get("httpGet")
            if self.check(http is not None, where, f"no {probe} httpGet"):
                self.check(http.get("path") == "/healthz", where, f"{probe} fetches {http.get('path')}, not /healthz")
                self.check(resolve(http.get("port")) == port, where,
                           f"{probe} port {http.get('port')} is not --metrics-port {port}")
        self.check(annotations.get("prometheus.io/scrape") == "true", where, "no prometheus.io/scrape: \"true\"")
        self.check(str(annotations.get("prometheus.io/port")) == str(port), where,
                   f"prometheus.io/port {annotations.get('prometheus.io/port')} is not --metrics-port {port}")
        self.check(annotations.get("prometheus.io/path") == "/metrics", where, "prometheus.io/path is not /metrics")
        if service is not None:
            selector = service["spec"].get("selector", {})
            self.check(all(labels.get(key) == value for key, value in selector.items()), where,
                       f"Service {service['metadata']['name']}'s selector {selector} does not match the pod's labels")
            targets = [resolve(entry.get("targetPort", entry.get("port"))) for entry in service["spec"].get("ports", [])]
            self.check(port in targets, where, f"Service {service['metadata']['name']} targets {targets}, not {port}")
        address = options.get("--metrics-address", ["127.0.0.1"])[-1]
        self.check(not address.startswith(LOOPBACK), where,
                   f"--metrics-address {address}: probes and Prometheus cannot reach a loopback address")
        self.check("SLUICE_TOKEN" in environment, where,
                   f"--metrics-address {address} without SLUICE_TOKEN: sluice run refuses to start")
        if job_sql is not None:
            self.try_run(where, argv, job_sql, options)

    def try_run(self, where, argv, job, options):
        """Validates the ConfigMap's SQL, then runs the container's exact command line on a small
        file job, with its job file, checkpoint directory and port swapped for temporary ones."""
        job_path, job_sql = job
        scratch = tempfile.mkdtemp(prefix="check_deploy_run.")
        try:
            job_file = os.path.join(scratch, "job.sql")
            with open(job_file, "w", encoding="utf-8") as file:
                file.write(job_sql)
            sets = []
            for value in options.get("--set", []):
                sets += ["--set", value]
            result = subprocess.run([self.binary, "validate", job_file, *sets], capture_output=True, text=True,
                                    check=False, timeout=60)
            self.check(result.returncode == 0, where, f"sluice validate of the ConfigMap's SQL: {result.stdout}{result.stderr}")
            with open(os.path.join(scratch, "in.jsonl"), "w", encoding="utf-8") as file:
                file.write('{"x":1}\n{"x":2}\n')
            with open(job_file, "w", encoding="utf-8") as file:
                file.write("CREATE STREAM out AS SELECT x FROM src WITH ('src.type'='file_source', 'src.path'='"
                           + os.path.join(scratch, "in.jsonl") + "', 'src.format'='json', 'src.schema'='x BIGINT', "
                           "'out.type'='file_sink', 'out.path'='" + os.path.join(scratch, "out.jsonl") + "');\n")
            swapped, index = [], 0
            replacements = {"--checkpoint-dir": os.path.join(scratch, "checkpoints"), "--metrics-port": "0",
                            "--savepoint-on-stop": os.path.join(scratch, "savepoints")}
            while index < len(argv):
                word = argv[index]
                if word in replacements and index + 1 < len(argv):
                    swapped += [word, replacements[word]]
                    index += 2
                    continue
                swapped.append(job_file if word == job_path else word)
                index += 1
            swapped[0] = self.binary
            environment = dict(os.environ, SLUICE_TOKEN="check-deploy-token")
            result = subprocess.run(swapped, capture_output=True, text=True, check=False, timeout=60, env=environment,
                                    cwd=scratch)
            self.check(result.returncode == 0 and os.path.exists(os.path.join(scratch, "out.jsonl")), where,
                       f"the container's command line, run on a small job, exited {result.returncode}: "
                       f"{result.stderr.strip()}")
        finally:
            shutil.rmtree(scratch)

    def run(self):
        stage = tempfile.mkdtemp(prefix="check_deploy_stage.")
        try:
            self.check_systemd(stage)
            self.check_dockerfile(stage)
            self.check_kubernetes(stage)
        finally:
            shutil.rmtree(stage)
        for error in self.errors:
            print(f"check_deploy: {error}")
        print(f"check_deploy: {self.passed} checks passed, {len(self.errors)} failed "
              f"(systemd unit, make install, Dockerfile, {len(os.listdir(self.path('deploy/kubernetes')))} files "
              f"of deploy/kubernetes)")
        return 1 if self.errors else 0


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n", 1)[0])
    parser.add_argument("binary", help="the built sluice")
    parser.add_argument("--root", default=REPOSITORY, help="the repository (default: this script's)")
    arguments = parser.parse_args()
    return Checker(arguments.root, arguments.binary).run()


if __name__ == "__main__":
    sys.exit(main())
