# Print an optspec for argparse to handle cmd's options that are independent of any subcommand.
function __fish_seedfeed_global_optspecs
    string join \n h/help V/version
end

function __fish_seedfeed_needs_command
    # Figure out if the current invocation already has a command.
    set -l cmd (commandline -opc)
    set -e cmd[1]
    argparse -s (__fish_seedfeed_global_optspecs) -- $cmd 2>/dev/null
    or return
    if set -q argv[1]
        # Also print the command, so this can be used to figure out what it is.
        echo $argv[1]
        return 1
    end
    return 0
end

function __fish_seedfeed_using_subcommand
    set -l cmd (__fish_seedfeed_needs_command)
    test -z "$cmd"
    and return 1
    contains -- $cmd[1] $argv
end

complete -c seedfeed -n "__fish_seedfeed_needs_command" -s h -l help -d 'Print help'
complete -c seedfeed -n "__fish_seedfeed_needs_command" -s V -l version -d 'Print version'
complete -c seedfeed -n "__fish_seedfeed_needs_command" -f -a "serve" -d 'Watch the seeds folder and serve the feeds over HTTP'
complete -c seedfeed -n "__fish_seedfeed_needs_command" -f -a "check" -d 'Parse every seed and report the rejected ones; exit 1 if any'
complete -c seedfeed -n "__fish_seedfeed_needs_command" -f -a "parse" -d 'Print the normalized entries of article files as JSON'
complete -c seedfeed -n "__fish_seedfeed_needs_command" -f -a "render" -d 'Write every document the server serves into a folder, with .gz and .br siblings'
complete -c seedfeed -n "__fish_seedfeed_needs_command" -f -a "status" -d 'Print the running daemon\'s state, read from its admin listener (admin_listen)'
complete -c seedfeed -n "__fish_seedfeed_needs_command" -f -a "new" -d 'Write a new Markdown article, dated now, into the seeds folder'
complete -c seedfeed -n "__fish_seedfeed_needs_command" -f -a "import" -d 'Write one Markdown article per item of a feed or a WordPress export, ids kept'
complete -c seedfeed -n "__fish_seedfeed_needs_command" -f -a "backup" -d 'Copy the database to FILE while the daemon may be running, and check the copy'
complete -c seedfeed -n "__fish_seedfeed_needs_command" -f -a "help" -d 'Print this message or the help of the given subcommand(s)'
complete -c seedfeed -n "__fish_seedfeed_using_subcommand serve" -l config -d 'TOML config file (see config/seedfeed.toml for every key)' -r -F
complete -c seedfeed -n "__fish_seedfeed_using_subcommand serve" -l seeds -d 'Folder of the article files (.txt, .md, .html) [default: seeds]' -r -F
complete -c seedfeed -n "__fish_seedfeed_using_subcommand serve" -l data -d 'Folder of the database (seedfeed.db, SQLite), created if missing [default: data]' -r -F
complete -c seedfeed -n "__fish_seedfeed_using_subcommand serve" -l listen -d 'Address and port to listen on: IP:PORT, :PORT (every IPv4 interface) or localhost:PORT [default: 127.0.0.1:8080]' -r
complete -c seedfeed -n "__fish_seedfeed_using_subcommand serve" -l admin-listen -d 'Address of /status and /metrics: IP:PORT, unix:PATH of a Unix socket, or off [default: 127.0.0.1:8081]' -r
complete -c seedfeed -n "__fish_seedfeed_using_subcommand serve" -l base-url -d 'Public URL that absolute links start with (unset: http:// and the listen address)' -r
complete -c seedfeed -n "__fish_seedfeed_using_subcommand serve" -s h -l help -d 'Print help (see more with \'--help\')'
complete -c seedfeed -n "__fish_seedfeed_using_subcommand check" -l config -d 'TOML config file (see config/seedfeed.toml for every key)' -r -F
complete -c seedfeed -n "__fish_seedfeed_using_subcommand check" -l seeds -d 'Folder of the article files (.txt, .md, .html) [default: seeds]' -r -F
complete -c seedfeed -n "__fish_seedfeed_using_subcommand check" -s h -l help -d 'Print help (see more with \'--help\')'
complete -c seedfeed -n "__fish_seedfeed_using_subcommand parse" -l config -d 'TOML config file (see config/seedfeed.toml for every key)' -r -F
complete -c seedfeed -n "__fish_seedfeed_using_subcommand parse" -s h -l help -d 'Print help (see more with \'--help\')'
complete -c seedfeed -n "__fish_seedfeed_using_subcommand render" -l config -d 'TOML config file (see config/seedfeed.toml for every key)' -r -F
complete -c seedfeed -n "__fish_seedfeed_using_subcommand render" -l out -d 'Folder to write the documents into (created if missing)' -r -F
complete -c seedfeed -n "__fish_seedfeed_using_subcommand render" -l seeds -d 'Folder of the article files (.txt, .md, .html) [default: seeds]' -r -F
complete -c seedfeed -n "__fish_seedfeed_using_subcommand render" -l data -d 'Folder of the database (seedfeed.db, SQLite), created if missing [default: data]' -r -F
complete -c seedfeed -n "__fish_seedfeed_using_subcommand render" -l base-url -d 'Public URL that absolute links start with (unset: http:// and the listen address)' -r
complete -c seedfeed -n "__fish_seedfeed_using_subcommand render" -s h -l help -d 'Print help (see more with \'--help\')'
complete -c seedfeed -n "__fish_seedfeed_using_subcommand status" -l config -d 'TOML config file (see config/seedfeed.toml for every key)' -r -F
complete -c seedfeed -n "__fish_seedfeed_using_subcommand status" -l admin-listen -d 'Address of /status and /metrics: IP:PORT, unix:PATH of a Unix socket, or off [default: 127.0.0.1:8081]' -r
complete -c seedfeed -n "__fish_seedfeed_using_subcommand status" -l json -d 'Print the JSON of /status as the daemon serves it'
complete -c seedfeed -n "__fish_seedfeed_using_subcommand status" -s h -l help -d 'Print help (see more with \'--help\')'
complete -c seedfeed -n "__fish_seedfeed_using_subcommand new" -l config -d 'TOML config file (see config/seedfeed.toml for every key)' -r -F
complete -c seedfeed -n "__fish_seedfeed_using_subcommand new" -l section -d 'The article\'s section' -r
complete -c seedfeed -n "__fish_seedfeed_using_subcommand new" -l tag -d 'A tag of the article; repeat it for more' -r
complete -c seedfeed -n "__fish_seedfeed_using_subcommand new" -l seeds -d 'Folder of the article files (.txt, .md, .html) [default: seeds]' -r -F
complete -c seedfeed -n "__fish_seedfeed_using_subcommand new" -s h -l help -d 'Print help (see more with \'--help\')'
complete -c seedfeed -n "__fish_seedfeed_using_subcommand import" -l into -d 'Folder to write the articles into (created if missing), such as the seeds folder' -r -F
complete -c seedfeed -n "__fish_seedfeed_using_subcommand import" -s h -l help -d 'Print help (see more with \'--help\')'
complete -c seedfeed -n "__fish_seedfeed_using_subcommand backup" -l config -d 'TOML config file (see config/seedfeed.toml for every key)' -r -F
complete -c seedfeed -n "__fish_seedfeed_using_subcommand backup" -l data -d 'Folder of the database (seedfeed.db, SQLite), created if missing [default: data]' -r -F
complete -c seedfeed -n "__fish_seedfeed_using_subcommand backup" -s h -l help -d 'Print help (see more with \'--help\')'
complete -c seedfeed -n "__fish_seedfeed_using_subcommand help; and not __fish_seen_subcommand_from serve check parse render status new import backup help" -f -a "serve" -d 'Watch the seeds folder and serve the feeds over HTTP'
complete -c seedfeed -n "__fish_seedfeed_using_subcommand help; and not __fish_seen_subcommand_from serve check parse render status new import backup help" -f -a "check" -d 'Parse every seed and report the rejected ones; exit 1 if any'
complete -c seedfeed -n "__fish_seedfeed_using_subcommand help; and not __fish_seen_subcommand_from serve check parse render status new import backup help" -f -a "parse" -d 'Print the normalized entries of article files as JSON'
complete -c seedfeed -n "__fish_seedfeed_using_subcommand help; and not __fish_seen_subcommand_from serve check parse render status new import backup help" -f -a "render" -d 'Write every document the server serves into a folder, with .gz and .br siblings'
complete -c seedfeed -n "__fish_seedfeed_using_subcommand help; and not __fish_seen_subcommand_from serve check parse render status new import backup help" -f -a "status" -d 'Print the running daemon\'s state, read from its admin listener (admin_listen)'
complete -c seedfeed -n "__fish_seedfeed_using_subcommand help; and not __fish_seen_subcommand_from serve check parse render status new import backup help" -f -a "new" -d 'Write a new Markdown article, dated now, into the seeds folder'
complete -c seedfeed -n "__fish_seedfeed_using_subcommand help; and not __fish_seen_subcommand_from serve check parse render status new import backup help" -f -a "import" -d 'Write one Markdown article per item of a feed or a WordPress export, ids kept'
complete -c seedfeed -n "__fish_seedfeed_using_subcommand help; and not __fish_seen_subcommand_from serve check parse render status new import backup help" -f -a "backup" -d 'Copy the database to FILE while the daemon may be running, and check the copy'
complete -c seedfeed -n "__fish_seedfeed_using_subcommand help; and not __fish_seen_subcommand_from serve check parse render status new import backup help" -f -a "help" -d 'Print this message or the help of the given subcommand(s)'
