"""make recipes-test: every ops recipe in examples/ops, tried as far as this machine can.

- crontab: the command field is run by sh, as cron would, twice (refresh, then skip).
- sfrefresh.service / .timer: `systemd-analyze verify`, then the service's ExecStart
  run with the unit's environment and credential directory.
- Dockerfile: no container engine here, so its instructions are carried out by hand:
  COPY into an empty root, ENV, USER via chroot --userspec, ENTRYPOINT + CMD.
- cronjob.yaml: parsed, and checked to agree with the Dockerfile (args, token path,
  user) and to forbid concurrent jobs.
- README's token recipes (exec, --print header/curl/env, status, revoke), run as
  written with a curl shim that records its arguments: curl gets the fresh token and
  never on its command line; status and revoke against the fake org.
Paths in the recipes (/usr/local/bin, /home/ops/.sf, /var/lib/sfrefresh, …) are
mapped into a scratch directory; SF_TOKEN_URL and SSL_CERT_FILE point at a fake
Salesforce over TLS on loopback (one per recipe, for that recipe's Connected App and
user, rotating refresh tokens), which is exactly how the recipes let an operator do it.

Usage: recipes.py [SFREFRESH [FAKE_SALESFORCE]]
"""
import json
import os
import re
import shlex
import shutil
import subprocess
import sys
import tempfile

from empty_root import chroot_prefix
from harness import CA, ROOT, Checks, FakeSalesforce, program_from

OPS = os.path.join(ROOT, "examples", "ops")
OLD = {"access_token": "00Dx!AQ.old", "refresh_token": "5Aep861.r0", "issued_at": "1"}
# The client id the recipes' own files name.
RECIPE_CLIENT_ID = "3MVG9.your-consumer-key"


def write_token(path, owner=None, **fields):
    os.makedirs(os.path.dirname(path), exist_ok=True)
    with open(path, "w") as f:
        json.dump(dict(OLD, **fields), f)
    os.chmod(path, 0o600)
    if owner is not None:
        os.chown(path, owner, owner)


def token(path):
    with open(path) as f:
        return json.load(f)


def try_crontab(c, binary, fake, tmp):
    with FakeSalesforce(fake, RECIPE_CLIENT_ID, OLD["refresh_token"], client_secret="cron-secret") as server:
        crontab(c, binary, server, tmp)


def crontab(c, binary, server, tmp):
    lines = [l for l in open(os.path.join(OPS, "crontab")) if l.strip() and not l.startswith("#")]
    c.check("crontab: one entry with five schedule fields", len(lines) == 1 and len(lines[0].split()) > 5, lines)
    command = lines[0].split(None, 5)[5].strip()
    home = os.path.join(tmp, "cron")
    command = command.replace("/usr/local/bin/sfrefresh", binary).replace("/home/ops/.sf", home)
    write_token(os.path.join(home, "token.json"))
    with open(os.path.join(home, "secret"), "w") as f:
        f.write("cron-secret\n")
    env = {"PATH": "/usr/bin:/bin", "SF_TOKEN_URL": server.url, "SSL_CERT_FILE": CA}
    before = len(server.posts())
    out = subprocess.run(["sh", "-c", command], env=env, capture_output=True, text=True)
    c.check("crontab: command refreshes quietly", out.returncode == 0 and out.stderr == "" and
            token(os.path.join(home, "token.json"))["access_token"] == server.current_access_token(), out.stderr)
    c.check("crontab: client id and secret sent", server.posts()[-1].form.get("client_secret") == "cron-secret"
            and server.posts()[-1].form.get("client_id") == RECIPE_CLIENT_ID, server.posts()[-1])
    out = subprocess.run(["sh", "-c", command], env=env, capture_output=True, text=True)
    c.check("crontab: the next run within the hour skips", out.returncode == 0
            and len(server.posts()) == before + 1, out.stderr)


def unit(name):
    values = {}
    for line in open(os.path.join(OPS, name)):
        if "=" in line and not line.startswith("#"):
            key, value = line.strip().split("=", 1)
            values.setdefault(key, []).append(value)
    return values


def try_systemd(c, binary, fake, tmp):
    with FakeSalesforce(fake, RECIPE_CLIENT_ID, OLD["refresh_token"], client_secret="unit-secret") as server:
        systemd(c, binary, server, tmp)


def systemd(c, binary, server, tmp):
    analyze = shutil.which("systemd-analyze")
    if analyze:
        units = os.path.join(tmp, "units")
        os.makedirs(units)
        for name in ("sfrefresh.service", "sfrefresh.timer"):
            text = open(os.path.join(OPS, name)).read().replace("/usr/local/bin/sfrefresh", binary)
            with open(os.path.join(units, name), "w") as f:
                f.write(text)
        # Documentation=man:sfrefresh(1) is checked with man(1): give it our page.
        man1 = os.path.join(tmp, "man", "man1")
        os.makedirs(man1)
        shutil.copy(os.path.join(ROOT, "sfrefresh.1"), man1)
        env = dict(os.environ, MANPATH=os.path.join(tmp, "man"))
        out = subprocess.run([analyze, "verify", os.path.join(units, "sfrefresh.service"),
                              os.path.join(units, "sfrefresh.timer")], capture_output=True, text=True, env=env)
        # Only problems with the units themselves count; this machine has no sfrefresh
        # user or /etc/sfrefresh, and its own unrelated units may warn.
        ours = [l for l in out.stderr.splitlines() if "sfrefresh" in l and "/etc/sfrefresh" not in l
                and "user" not in l.lower()]
        c.check("systemd: systemd-analyze verify finds nothing wrong with the units", not ours, out.stderr)
    else:
        print("skip    systemd: systemd-analyze is not installed")
    service = unit("sfrefresh.service")
    timer = unit("sfrefresh.timer")
    c.check("systemd: timer every 15 minutes, persistent",
            timer.get("OnCalendar") == ["*:0/15"] and timer.get("Persistent") == ["true"], timer)
    c.check("systemd: private state directory",
            service.get("StateDirectoryMode") == ["0700"] and service.get("UMask") == ["0077"], service)
    state = os.path.join(tmp, "var-lib-sfrefresh")
    creds = os.path.join(tmp, "credentials")
    os.makedirs(creds)
    with open(os.path.join(creds, "client-secret"), "w") as f:
        f.write("unit-secret")
    env = {"PATH": "/usr/bin:/bin", "SF_TOKEN_URL": server.url, "SSL_CERT_FILE": CA,
           "CREDENTIALS_DIRECTORY": creds, "SF_CLIENT_ID": RECIPE_CLIENT_ID}
    for assignment in service["Environment"]:
        key, value = assignment.split("=", 1)
        env[key] = value.replace("/var/lib/sfrefresh", state)
    write_token(env["SF_TOKEN_FILE"])
    argv = shlex.split(service["ExecStart"][0].replace("${CREDENTIALS_DIRECTORY}", creds))
    argv[0] = binary
    out = subprocess.run(argv, env=env, capture_output=True, text=True)
    c.check("systemd: ExecStart refreshes the token in the state directory", out.returncode == 0
            and token(env["SF_TOKEN_FILE"])["refresh_token"] == server.current_refresh_token() != OLD["refresh_token"]
            and server.posts()[-1].form.get("client_secret") == "unit-secret", out.stderr)


def dockerfile():
    steps = []
    for line in open(os.path.join(OPS, "Dockerfile")):
        if line.strip() and not line.startswith("#"):
            op, rest = line.strip().split(None, 1)
            steps.append((op, rest))
    return steps


def try_dockerfile(c, binary, fake, tmp):
    with FakeSalesforce(fake, "3MVG9.docker", OLD["refresh_token"]) as server:
        dockerfile_run(c, binary, server, tmp)


def dockerfile_run(c, binary, server, tmp):
    steps = dockerfile()
    c.check("Dockerfile: FROM scratch", steps[0] == ("FROM", "scratch"), steps[0])
    root = os.path.join(tmp, "image")
    os.makedirs(root)
    env, user, entrypoint, cmd = {}, None, [], []
    for op, rest in steps[1:]:
        if op == "COPY":
            src, dst = rest.split()
            shutil.copy(os.path.join(ROOT, src) if src != "dist/sfrefresh" else binary, root + dst)
        elif op == "ENV":
            key, value = rest.split("=", 1)
            env[key] = value
        elif op == "USER":
            user = rest
        elif op == "ENTRYPOINT":
            entrypoint = json.loads(rest)
        elif op == "CMD":
            cmd = json.loads(rest)
    uid = int(user.split(":")[0])
    token_dir = os.path.dirname(root + env["SF_TOKEN_FILE"])
    os.makedirs(token_dir)
    os.chown(token_dir, uid, uid)
    write_token(root + env["SF_TOKEN_FILE"], owner=uid)
    shutil.copy(CA, os.path.join(root, "ca.pem"))  # the test CA, as `docker run -v` would add
    run_env = dict(env, SF_CLIENT_ID="3MVG9.docker", SF_TOKEN_URL=server.url, SSL_CERT_FILE="/ca.pem")
    if os.geteuid() != 0:
        print("skip    Dockerfile: needs root for chroot --userspec")
        return
    out = subprocess.run([*chroot_prefix(root, userspec=user), *entrypoint, *cmd], env=run_env,
                         capture_output=True, text=True)
    saved = root + env["SF_TOKEN_FILE"]
    c.check("Dockerfile: ENTRYPOINT + CMD as USER refresh the token on the volume",
            out.returncode == 0 and token(saved)["access_token"] == server.current_access_token(), out.stderr)
    st = os.stat(saved)
    c.check("Dockerfile: the file stays owned by the image user, mode 0600",
            (st.st_uid, st.st_mode & 0o777) == (uid, 0o600), (st.st_uid, oct(st.st_mode)))
    c.check("Dockerfile: no litter on the volume", os.listdir(token_dir) == ["token.json"], os.listdir(token_dir))


def try_cronjob(c):
    try:
        import yaml
    except ImportError:
        c.check("cronjob.yaml: PyYAML is installed (python3 -m pip install pyyaml)", False)
        return
    job = yaml.safe_load(open(os.path.join(OPS, "cronjob.yaml")))
    spec = job["spec"]
    pod = spec["jobTemplate"]["spec"]["template"]["spec"]
    container = pod["containers"][0]
    env = {e["name"]: e for e in container["env"]}
    steps = dict(dockerfile()[1:])
    c.check("cronjob.yaml: a batch/v1 CronJob that forbids concurrent runs",
            (job["apiVersion"], job["kind"], spec["concurrencyPolicy"]) == ("batch/v1", "CronJob", "Forbid"))
    c.check("cronjob.yaml: args, token path and user match the Dockerfile",
            container["args"] == json.loads(steps["CMD"])
            and env["SF_TOKEN_FILE"]["value"] == steps["ENV"].split("=", 1)[1]
            and str(pod["securityContext"]["runAsUser"]) == steps["USER"].split(":")[0])
    mount = container["volumeMounts"][0]["mountPath"]
    c.check("cronjob.yaml: the token's directory is the mounted volume",
            os.path.dirname(env["SF_TOKEN_FILE"]["value"]) == mount, mount)
    c.check("cronjob.yaml: id and secret come from a Secret",
            all("secretKeyRef" in env[k]["valueFrom"] for k in ("SF_CLIENT_ID", "SF_CLIENT_SECRET")))


README = os.path.join(ROOT, "README.md")
# A token put on a command line: `Bearer $…` expanded into an argument, or the token
# printed by $(sfrefresh --print token) and handed on.
TOKEN_IN_ARGV = re.compile(r"Bearer \$|\$\(sfrefresh [^)]*--print token")


def readme_code():
    """Every line inside the README's fenced code blocks."""
    lines, inside = [], False
    for line in open(README):
        if line.startswith("```"):
            inside = not inside
        elif inside:
            lines.append(line.rstrip("\n"))
    return lines


def readme_lines(c, name, pattern):
    """Every fenced README line that is this kind of recipe; there must be one."""
    found = [l for l in readme_code() if re.fullmatch(pattern, l)]
    c.check(f"{name}: the README shows it", found, pattern)
    return found


def readme_line(c, name, pattern):
    found = [l for l in readme_code() if re.fullmatch(pattern, l)]
    c.check(f"{name}: the README shows it", len(found) == 1, found)
    return found[0] if len(found) == 1 else None


def sh(line, cwd, env):
    return subprocess.run(["sh", "-c", line], cwd=cwd, env=env, capture_output=True, text=True)


def try_token_recipes(c, binary, fake, tmp):
    with FakeSalesforce(fake, "3MVG9.pipe", OLD["refresh_token"]) as server:
        token_recipes(c, binary, server, tmp)


def token_recipes(c, binary, server, tmp):
    """Using, checking and revoking the token, as the README writes it. curl is a shim
    that records its arguments, then runs the real curl (trusting the test CA)."""
    bad = [l for l in readme_code() if TOKEN_IN_ARGV.search(l)]
    c.check("README: no recipe puts a token on a command line", not bad, bad)
    work = os.path.join(tmp, "token-recipes")
    bindir = os.path.join(tmp, "bin")
    os.makedirs(work)
    os.makedirs(bindir)
    os.symlink(binary, os.path.join(bindir, "sfrefresh"))
    argv_log = os.path.join(tmp, "curl-argv")
    shim = os.path.join(bindir, "curl")
    with open(shim, "w") as f:
        f.write(f'#!/bin/sh\nprintf "%s\\n" "$@" >> {shlex.quote(argv_log)}\n'
                f'exec {shlex.quote(shutil.which("curl"))} --cacert {shlex.quote(CA)} "$@"\n')
    os.chmod(shim, 0o755)
    tok = os.path.join(work, "tok.json")
    write_token(tok, instance_url=server.base)  # as Salesforce saves it
    env = {"PATH": f"{bindir}:/usr/bin:/bin", "SF_CLIENT_ID": "3MVG9.pipe", "SF_TOKEN_URL": server.url,
           "SSL_CERT_FILE": CA}
    recipes = [
        (name, line)
        for name, pattern in [
            ("exec, printf | curl -H @-", r"sfrefresh exec .*tok\.json -- sh -c 'printf .*"),
            ("--print header | curl -H @-", r"sfrefresh --print header .*tok\.json \| curl .*"),
            ("--print curl | curl -K -", r"sfrefresh --print curl .*tok\.json \| curl .*"),
        ]
        for line in readme_lines(c, name, pattern)
    ]
    for name, line in recipes:
        name = f"{name} ({line[:40]}…)"
        # A refresh each time: the recipes with --if-older-than would skip it.
        write_token(tok, instance_url=server.base, refresh_token=token(tok)["refresh_token"])
        open(argv_log, "w").close()
        out = sh(line, work, env)
        fresh = server.current_access_token()
        got = [r for r in server.requests() if r.method == "GET"]
        c.check(f"{name}: curl sent the fresh token and the API took it", out.returncode == 0 and got
                and got[-1].header("Authorization") == f"Bearer {fresh}" and "DailyApiRequests" in out.stdout,
                out.stderr + str(got[-1:]))
        argv = open(argv_log).read()
        c.check(f"{name}: curl's arguments hold no token", argv and fresh not in argv and "Bearer" not in argv,
                argv)
    env_recipe(c, work, env, server)
    cron = status_recipes(c, binary, server, tmp, tok, env)
    revoke_recipes(c, server, tmp, tok, env, cron)


def env_recipe(c, work, env, server):
    code = readme_code()
    first = [i for i, l in enumerate(code) if l.startswith("vars=$(sfrefresh --print env")]
    if not c.check("--print env: the README shows it", len(first) == 1, first):
        return
    script = "\n".join(code[first[0]:first[0] + 2]) + "\nenv > exported\n"
    out = sh(script, work, env)
    exported = open(os.path.join(work, "exported")).read().splitlines() if out.returncode == 0 else []
    c.check("--print env: eval and set -a export the token and the instance URL",
            f"SF_ACCESS_TOKEN={server.current_access_token()}" in exported
            and f"SF_INSTANCE_URL={server.base}" in exported, out.stderr)
    # The systemd form: a private file that `set -a; . FILE` (and EnvironmentFile=) reads.
    found = re.search(r"`\(umask 077; (sfrefresh --print env -q tok\.json) > /run/myapp/sf\.env\)`",
                      open(README).read())
    if c.check("--print env: the README shows the EnvironmentFile= recipe", found is not None):
        line = found.group(0).strip("`").replace("/run/myapp", work)
        out = sh(line + "; set -a; . ./sf.env; printf %s \"$SF_ACCESS_TOKEN\"", work, env)
        mode = os.stat(os.path.join(work, "sf.env")).st_mode & 0o777
        c.check("--print env: the environment file is private and holds the token",
                out.returncode == 0 and mode == 0o600 and out.stdout == server.current_access_token(),
                (out.stderr, oct(mode)))


def status_recipes(c, binary, server, tmp, tok, env):
    """The README's status commands; returns the cron one, mapped, to run again later."""
    command = None
    cron = readme_line(c, "status --check from cron",
                       r"0 8 \* \* \* /usr/local/bin/sfrefresh status --check /home/ops/\.sf/token\.json > /dev/null")
    home = os.path.join(tmp, "status-home")
    os.makedirs(home)
    shutil.copy(tok, os.path.join(home, "token.json"))
    if cron:
        command = cron.split(None, 5)[5].replace("/usr/local/bin/sfrefresh", binary).replace("/home/ops/.sf", home)
        out = sh(command, home, env)
        c.check("status --check from cron: silent for a working token", out.returncode == 0 and out.stderr == "",
                out.stderr)
    jq = readme_line(c, "status --json | jq", r"sfrefresh status --json /srv/tokens/\*\.json \| jq .*")
    if jq:
        tokens = os.path.join(tmp, "srv-tokens")
        os.makedirs(tokens)
        shutil.copy(tok, os.path.join(tokens, "good.json"))
        with open(os.path.join(tokens, "dead.json"), "w") as f:
            json.dump({"instance_url": server.base}, f)
        out = sh(jq.replace("/srv/tokens", tokens), tmp, env)
        c.check("status --json | jq: names only the file that needs attention",
                out.stdout == os.path.join(tokens, "dead.json") + "\n", (out.stdout, out.stderr))
    return command


def revoke_recipes(c, server, tmp, tok, env, cron):
    keep = readme_line(c, "revoke --keep-file",
                       r"sfrefresh revoke --keep-file --revoke-url https://idp\.example/oauth2/revoke tok\.json")
    plain = readme_line(c, "revoke", r"sfrefresh revoke ~/\.config/sf/token\.json")
    work = os.path.dirname(tok)
    if keep:
        kept = os.path.join(work, "kept.json")
        shutil.copy(tok, kept)
        line = keep.replace("https://idp.example/oauth2/revoke", server.base + "/services/oauth2/revoke")
        out = sh(line.replace("tok.json", "kept.json"), work, env)
        c.check("revoke --keep-file: the family is revoked and the file kept without tokens",
                out.returncode == 0 and server.state()["family_revoked"]
                and not {"access_token", "refresh_token"} & set(token(kept)) and "id" in token(kept),
                (out.stderr, token(kept)))
    if plain:
        home = os.path.join(tmp, "revoke-home")
        os.makedirs(home)
        shutil.copy(tok, os.path.join(home, "token.json"))
        out = sh(plain.replace("~/.config/sf", home), tmp, env)
        c.check("revoke: the file is removed (the token was revoked above: the server says so)",
                out.returncode == 0 and not os.path.exists(os.path.join(home, "token.json"))
                and "already invalid" in out.stderr, out.stderr)
        posts = server.posts()
        c.check("revoke: POSTed the refresh token to the revocation endpoint",
                posts[-1].path == "/services/oauth2/revoke"
                and posts[-1].form.get("token") == token(tok)["refresh_token"]
                and posts[-1].form.get("token_type_hint") == "refresh_token", posts[-1])
    if cron:
        out = sh(cron, tmp, env)
        c.check("status --check from cron: a revoked token is exit 5, said on stderr",
                out.returncode == 5 and "the access token is invalid" in out.stderr, out.stderr)


def main():
    binary = os.path.abspath(sys.argv[1] if len(sys.argv) > 1 else "dist/sfrefresh")
    fake, c = program_from(sys.argv), Checks("recipes")
    tmp = tempfile.mkdtemp(prefix="sfrefresh-recipes-")
    os.chmod(tmp, 0o755)
    try:
        try_crontab(c, binary, fake, tmp)
        try_systemd(c, binary, fake, tmp)
        try_dockerfile(c, binary, fake, tmp)
        try_cronjob(c)
        try_token_recipes(c, binary, fake, tmp)
    finally:
        shutil.rmtree(tmp, ignore_errors=True)
    c.finish()


if __name__ == "__main__":
    main()
