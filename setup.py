"""Setup for raad, read from settings.ini (nbdev 2 style)."""
from configparser import ConfigParser
import setuptools, shlex

config = ConfigParser(delimiters=['='])
config.read('settings.ini', encoding='utf-8')
cfg = config['DEFAULT']

licenses = {'apache2': 'Apache-2.0'}  # settings.ini `license` -> SPDX expression (PEP 639)
# settings.ini `status` is the number of the trove classifier (nbdev's convention): 3 -> 'Development Status :: 3 - Alpha'
statuses = ['0 - Pre-Planning', '1 - Planning', '2 - Pre-Alpha', '3 - Alpha', '4 - Beta', '5 - Production/Stable', '6 - Mature', '7 - Inactive']
py_versions = '3.10 3.11 3.12 3.13'.split()

requirements = shlex.split(cfg.get('requirements', ''))
# Optional features, one extra each (`pip install "raad[onnx]"`); `dev` is all of them plus the tools that build and test raad.
extras = {name: shlex.split(cfg.get(f'{name}_requirements', '')) for name in ('app', 'onnx', 'openvino', 'natural')}
extras['dev'] = sorted({r for reqs in extras.values() for r in reqs} | set(shlex.split(cfg.get('dev_requirements', ''))))
# The distilled teacher ships inside the package as raad/assets/teacher_lite0 (its weights and config only, not the
# optimizer state), read from checkpoints/teacher_lite0: raad/ itself is written by nbdev_export, so no data lives there.
TEACHER_PKG = 'raad.assets.teacher_lite0'
extras['ray'] = shlex.split(cfg.get('ray_requirements', ''))  # `pip install raad[ray]`: raad bench/experiment --ray (not in dev)
lic = licenses[cfg['license']]
min_python = cfg['min_python']
setuptools.setup(
    name=cfg['lib_name'],
    license_expression=lic,
    classifiers=['Development Status :: ' + statuses[int(cfg['status'])],
                 'Intended Audience :: ' + cfg['audience'].title(),
                 'Natural Language :: ' + cfg['language'].title()] +
                ['Programming Language :: Python :: ' + o for o in py_versions[py_versions.index(min_python):]],
    url=cfg['git_url'],
    packages=setuptools.find_packages(include=['raad', 'raad.*']) + [TEACHER_PKG],
    package_dir={TEACHER_PKG: 'checkpoints/teacher_lite0'},
    package_data={TEACHER_PKG: ['teacher.json', 'teacher.safetensors']},
    include_package_data=False,
    install_requires=requirements,
    extras_require=extras,
    python_requires='>=' + min_python,
    long_description=open('README.md', encoding='utf-8').read(),
    long_description_content_type='text/markdown',
    zip_safe=False,
    entry_points={'console_scripts': cfg.get('console_scripts', '').split(),
                  'nbdev': [f'{cfg.get("lib_path")}={cfg.get("lib_path")}._modidx:d']},
    version=cfg['version'],
    author=cfg['author'], author_email=cfg['author_email'],
    description=cfg['description'], keywords=cfg['keywords'],
)
